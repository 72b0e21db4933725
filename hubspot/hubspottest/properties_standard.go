package hubspottest

import "time"

// standardGroups are HubSpot's default contact property groups.
func standardGroups() []propertyGroup {
	return []propertyGroup{
		{Name: "contactinformation", Label: "Contact information", DisplayOrder: 0},
		{Name: "emailinformation", Label: "Email information", DisplayOrder: 1},
		{Name: "conversioninformation", Label: "Conversion information", DisplayOrder: 2},
		{Name: "analyticsinformation", Label: "Web analytics history", DisplayOrder: 3},
		{Name: "sales_properties", Label: "Sales properties", DisplayOrder: 4},
		{Name: "contact_activity", Label: "Contact activity", DisplayOrder: 5},
		{Name: "socialmediainformation", Label: "Social media information", DisplayOrder: 6},
		{Name: "deal_information", Label: "Deal information", DisplayOrder: 7},
	}
}

// propOpt adjusts a standard property definition.
type propOpt func(*Property)

// readOnly marks a property whose value integrations cannot write.
func readOnly(p *Property) { p.ModificationMetadata.ReadOnlyValue = true }

// calculated marks a property HubSpot computes.
func calculated(p *Property) {
	p.Calculated = true
	p.ModificationMetadata.ReadOnlyValue = true
}

func hidden(p *Property) { p.Hidden = true }

func formField(p *Property) { p.FormField = true }

// options sets enumeration options from value/label pairs.
func options(kv ...string) propOpt {
	return func(p *Property) {
		for i := 0; i+1 < len(kv); i += 2 {
			p.Options = append(p.Options, PropertyOption{
				Value: kv[i], Label: kv[i+1], DisplayOrder: i / 2,
			})
		}
	}
}

func owner(p *Property) {
	p.ExternalOptions = true
	p.ReferencedObjectType = "OWNER"
}

func std(name, label, typ, fieldType, group string, opts ...propOpt) Property {
	p := Property{
		Name: name, Label: label, Type: typ, FieldType: fieldType, GroupName: group,
		DisplayOrder: -1, HubspotDefined: true, DataSensitivity: "non_sensitive",
		ModificationMetadata: ModificationMetadata{ReadOnlyDefinition: true},
	}
	for _, o := range opts {
		o(&p)
	}
	if p.Type == "enumeration" {
		p.ModificationMetadata.ReadOnlyOptions = p.ExternalOptions
	}
	return p
}

// standardProperties are the HubSpot-defined contact properties every
// simulated portal starts with.
func standardProperties() []Property {
	const ci, conv, ana, sales, act = "contactinformation", "conversioninformation", "analyticsinformation", "sales_properties", "contact_activity"
	return []Property{
		std("email", "Email", "string", "text", ci, formField),
		std("firstname", "First Name", "string", "text", ci, formField),
		std("lastname", "Last Name", "string", "text", ci, formField),
		std("salutation", "Salutation", "string", "text", ci, formField),
		std("phone", "Phone Number", "string", "phonenumber", ci, formField),
		std("mobilephone", "Mobile Phone Number", "string", "phonenumber", ci, formField),
		std("fax", "Fax Number", "string", "phonenumber", ci, formField),
		std("company", "Company Name", "string", "text", ci, formField),
		std("website", "Website URL", "string", "text", ci, formField),
		std("jobtitle", "Job Title", "string", "text", ci, formField),
		std("industry", "Industry", "string", "text", ci, formField),
		std("address", "Street Address", "string", "text", ci, formField),
		std("city", "City", "string", "text", ci, formField),
		std("state", "State/Region", "string", "text", ci, formField),
		std("zip", "Postal Code", "string", "text", ci, formField),
		std("country", "Country/Region", "string", "text", ci, formField),
		std("message", "Message", "string", "textarea", ci, formField),
		std("date_of_birth", "Date of birth", "string", "text", ci, formField),
		std("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", ci, formField, options(
			"subscriber", "Subscriber", "lead", "Lead", "marketingqualifiedlead", "Marketing Qualified Lead",
			"salesqualifiedlead", "Sales Qualified Lead", "opportunity", "Opportunity", "customer", "Customer",
			"evangelist", "Evangelist", "other", "Other")),
		std("hs_lead_status", "Lead Status", "enumeration", "select", sales, options(
			"NEW", "New", "OPEN", "Open", "IN_PROGRESS", "In Progress", "OPEN_DEAL", "Open Deal",
			"UNQUALIFIED", "Unqualified", "ATTEMPTED_TO_CONTACT", "Attempted to Contact",
			"CONNECTED", "Connected", "BAD_TIMING", "Bad Timing")),
		std("hs_language", "Preferred language", "enumeration", "select", ci, options(
			"en", "English", "de", "German", "fr", "French", "es", "Spanish", "nl", "Dutch",
			"it", "Italian", "pt-br", "Portuguese - Brazil", "ja", "Japanese")),
		std("hubspot_owner_id", "Contact owner", "enumeration", "select", sales, owner),
		std("hs_object_id", "Record ID", "number", "number", ci, readOnly),
		std("createdate", "Create Date", "datetime", "date", ci, readOnly),
		std("lastmodifieddate", "Last Modified Date", "datetime", "date", ci, readOnly),
		std("hs_email_domain", "Email Domain", "string", "text", ci, calculated),
		std("hs_additional_emails", "Additional email addresses", "enumeration", "checkbox", ci, readOnly, hidden),
		std("num_associated_deals", "Associated Deals", "number", "number", "deal_information", calculated),
		std("hs_analytics_source", "Original Traffic Source", "enumeration", "select", ana, readOnly, options(
			"ORGANIC_SEARCH", "Organic Search", "PAID_SEARCH", "Paid Search", "EMAIL_MARKETING", "Email Marketing",
			"SOCIAL_MEDIA", "Organic Social", "REFERRALS", "Referrals", "OTHER_CAMPAIGNS", "Other Campaigns",
			"DIRECT_TRAFFIC", "Direct Traffic", "OFFLINE", "Offline Sources", "PAID_SOCIAL", "Paid Social",
			"AI_REFERRALS", "AI Referrals")),
		std("hs_analytics_num_page_views", "Number of Pageviews", "number", "number", ana, calculated),
		std("notes_last_updated", "Last Activity Date", "datetime", "date", act, readOnly),
		std("first_conversion_date", "First Conversion Date", "datetime", "date", conv, calculated),
		std("num_conversion_events", "Number of Form Submissions", "number", "number", conv, calculated),
	}
}

// seedStandardSchema installs the standard contact groups and properties.
func (pt *portal) seedStandardSchema(now time.Time) {
	pt.schema = newSchema(standardGroups(), standardProperties(), now)
}
