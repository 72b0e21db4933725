package tenants

import "fmt"

// What a source sends to HubSpot for one kind of signup.
const (
	SendContacts = "contacts" // a contact (and a deal if the deal settings say so)
	SendNothing  = "nothing"  // nothing: the signup is stored and shown, never sent
)

// SendSettingsError names what a refused ValidationError was about.
const SendSettingsError = "send settings"

// Send says, per kind of signup, whether a source sends it to HubSpot at
// all. The zero value sends both kinds (what a source did before the
// choice existed).
type Send struct {
	Referrers string `json:"referrers"`
	Leads     string `json:"leads"`
}

// Normalized spells the default out: "" becomes SendContacts.
func (s Send) Normalized() Send {
	if s.Referrers == "" {
		s.Referrers = SendContacts
	}
	if s.Leads == "" {
		s.Leads = SendContacts
	}
	return s
}

// Of returns the choice for one kind of signup.
func (s Send) Of(lead bool) string {
	n := s.Normalized()
	if lead {
		return n.Leads
	}
	return n.Referrers
}

// Nothing reports whether the source sends nothing at all to HubSpot.
func (s Send) Nothing() bool { return s.Of(false) == SendNothing && s.Of(true) == SendNothing }

// Validate checks the choices before they are saved.
func (s Send) Validate() error {
	var probs []string
	for _, k := range []struct{ name, v string }{{"referrers", s.Referrers}, {"leads", s.Leads}} {
		if k.v != "" && k.v != SendContacts && k.v != SendNothing {
			probs = append(probs, fmt.Sprintf("send.%s: %q is neither %q nor %q", k.name, clip(k.v), SendContacts, SendNothing))
		}
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs, Of: SendSettingsError}
	}
	return nil
}

// Sends reports whether a signup of this kind (a lead, or a referrer) goes
// to HubSpot.
func (s *Source) Sends(lead bool) bool { return s.Send.Of(lead) != SendNothing }

// KindName names a kind of signup in the plural, for messages.
func KindName(lead bool) string {
	if lead {
		return "leads"
	}
	return "referrers"
}

// CheckDeals refuses deal settings that make deals for a kind of signup
// the source sends nothing for: no contact, so no deal either.
func (s *Source) CheckDeals() error {
	var probs []string
	for _, lead := range []bool{false, true} {
		if s.Deals.For(lead) && !s.Sends(lead) {
			kind := DealKind(lead)
			probs = append(probs, fmt.Sprintf("create_for: %q: this source sends no %s to HubSpot (send.%s is %q); send them as contacts first, or leave %q out",
				kind, KindName(lead), KindName(lead), SendNothing, kind))
		}
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs, Of: DealSettingsError}
	}
	return nil
}

// DealKind names a kind of signup as create_for does.
func DealKind(lead bool) string {
	if lead {
		return DealsForLeads
	}
	return DealsForReferrers
}
