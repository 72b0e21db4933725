package properties

import (
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// RecommendedGroup is the property group refhub creates for its properties.
var RecommendedGroup = hubspot.PropertyGroup{Name: "referral_factory", Label: "Referral Factory"}

// Recommendation is one property refhub recommends, with the Referral
// Factory fields it is usually fed from (the first one a sample signup has
// wins).
type Recommendation struct {
	Property hubspot.Property
	From     []string
}

// The recommended properties that hold referral counts (app/leads keeps
// them current on referrers).
const (
	ReferralCount          = "rf_referral_count"
	ConvertedReferralCount = "rf_converted_referral_count"
)

// Recommended are the properties "Create recommended properties" creates.
var Recommended = []Recommendation{
	{hubspot.Property{Name: "rf_referral_link", Label: "Referral link", Type: "string", FieldType: "text",
		Description: "The contact's Referral Factory referral link."}, []string{"url", "referral_link", "referral_url", "share_url", "link"}},
	{hubspot.Property{Name: "rf_referral_code", Label: "Referral code", Type: "string", FieldType: "text",
		Description: "The contact's Referral Factory referral code."}, []string{"code", "referral_code"}},
	{hubspot.Property{Name: ReferralCount, Label: "Referral count", Type: "number", FieldType: "number",
		Description: "How many people the contact referred."}, []string{"referrals_count", "referral_count", "referrals"}},
	{hubspot.Property{Name: ConvertedReferralCount, Label: "Converted referral count", Type: "number", FieldType: "number",
		Description: "How many of the contact's referrals converted."}, []string{"converted_referrals_count", "converted_referral_count", "qualified_referrals_count"}},
	{hubspot.Property{Name: "rf_campaign_name", Label: "Referral campaign", Type: "string", FieldType: "text",
		Description: "The Referral Factory campaign the contact joined."}, []string{"campaign_name", "campaign.name", "campaign"}},
	{hubspot.Property{Name: "rf_referral_source", Label: "Referral source", Type: "string", FieldType: "text",
		Description: "How the contact joined Referral Factory (Direct, Referred, Widget, …)."}, []string{"source", "user_source"}},
	{hubspot.Property{Name: "rf_signed_up_at", Label: "Referral signup date", Type: "date", FieldType: "date",
		Description: "When the contact registered for a referral link."}, []string{"signed_up_at", "created_at", "joined_at"}},
}

// WithRecommended adds a row for every recommended property m does not
// map yet, reading the field sample has (sample may be nil: the first
// usual field is read then).
func WithRecommended(m tenants.Mapping, sample *payload.Payload) tenants.Mapping {
	mapped := map[string]bool{}
	for _, f := range m.Fields {
		mapped[f.To] = true
	}
	for _, r := range Recommended {
		if mapped[r.Property.Name] {
			continue
		}
		from := r.From[0]
		if sample != nil {
			for _, cand := range r.From {
				if _, ok := sample.Get(cand); ok {
					from = cand
					break
				}
			}
		}
		m.Fields = append(m.Fields, tenants.FieldMap{From: from, To: r.Property.Name})
	}
	return m
}
