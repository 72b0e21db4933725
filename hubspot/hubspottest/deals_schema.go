package hubspottest

import "time"

// standardDealGroups are HubSpot's default deal property groups.
func standardDealGroups() []propertyGroup {
	return []propertyGroup{
		{Name: "dealinformation", Label: "Deal information", DisplayOrder: 0},
		{Name: "deal_activity", Label: "Deal activity", DisplayOrder: 1},
	}
}

// standardDealProperties are the HubSpot-defined deal properties every
// simulated portal starts with. The options of pipeline and dealstage are
// filled from the portal's pipelines (syncPipelineOptions).
func standardDealProperties() []Property {
	const info, act = "dealinformation", "deal_activity"
	return []Property{
		std("dealname", "Deal Name", "string", "text", info, formField),
		std("amount", "Amount", "number", "number", info, func(p *Property) { p.ShowCurrencySymbol = true }),
		std("pipeline", "Pipeline", "enumeration", "select", info),
		std("dealstage", "Deal Stage", "enumeration", "radio", info),
		std("closedate", "Close Date", "datetime", "date", info),
		std("dealtype", "Deal Type", "enumeration", "radio", info, options(
			"newbusiness", "New Business", "existingbusiness", "Existing Business")),
		std("hs_priority", "Priority", "enumeration", "select", info, options(
			"low", "Low", "medium", "Medium", "high", "High")),
		std("description", "Deal Description", "string", "textarea", info),
		std("hubspot_owner_id", "Deal owner", "enumeration", "select", info, owner),
		std("hs_object_id", "Record ID", "number", "number", info, readOnly),
		std("createdate", "Create Date", "datetime", "date", info, readOnly),
		std("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", info, readOnly),
		std("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", info, calculated),
		std("amount_in_home_currency", "Amount in company currency", "number", "number", info, calculated),
		std("num_associated_contacts", "Number of Associated Contacts", "number", "number", info, calculated),
		std("days_to_close", "Days to close", "number", "number", info, calculated),
		std("notes_last_updated", "Last Activity Date", "datetime", "date", act, readOnly),
	}
}

// defaultDealReadProperties are what HubSpot returns for a deal when no
// properties are requested.
var defaultDealReadProperties = []string{"amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"}

// defaultSalesPipeline is the pipeline every HubSpot account starts with,
// with HubSpot's stage ids; its createdAt is the epoch, as HubSpot reports
// for default pipelines.
func defaultSalesPipeline() *pipeline {
	epoch := time.UnixMilli(0)
	p := &pipeline{id: "default", label: "Sales Pipeline", created: epoch, updated: epoch}
	for i, st := range []struct {
		id, label, probability string
		closed                 bool
	}{
		{"appointmentscheduled", "Appointment Scheduled", "0.2", false},
		{"qualifiedtobuy", "Qualified To Buy", "0.4", false},
		{"presentationscheduled", "Presentation Scheduled", "0.6", false},
		{"decisionmakerboughtin", "Decision Maker Bought-In", "0.8", false},
		{"contractsent", "Contract Sent", "0.9", false},
		{"closedwon", "Closed Won", "1.0", true},
		{"closedlost", "Closed Lost", "0.0", true},
	} {
		p.stages = append(p.stages, &pipelineStage{id: st.id, label: st.label, displayOrder: i,
			probability: st.probability, closed: st.closed, created: epoch, updated: epoch})
	}
	return p
}

// seedDeals installs the standard deal schema, the default pipeline and
// the standard association types.
func (pt *portal) seedDeals(now time.Time) {
	pt.dealSchema = newSchema(standardDealGroups(), standardDealProperties(), now)
	pt.deals = deals{
		records: make(map[int64]*record),
		unique:  make(map[string]map[string]int64),
		nextID:  firstDealID,
	}
	pt.deals.pipelines = []*pipeline{defaultSalesPipeline()}
	pt.syncPipelineOptions()
	pt.assoc = newAssociations()
}
