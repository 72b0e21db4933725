// Package leads is refhub's referral lifecycle on the HubSpot side: which
// signups are leads (people invited) rather than referrers, the index of
// the people refhub has delivered (their Referral Factory id, code and
// email → HubSpot contact), the link of each lead's contact to its
// referrer's contact through a "Referred by" / "Referrer" association label
// pair, the leads waiting for a referrer refhub has not delivered yet, and
// the referral counts written on referrers. Every key lives in the portal's
// hash slot ({p:<hub>}:leads:…).
package leads

import (
	"strings"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/tenants"
)

// Lookup is a normalized payload: the value at a field path.
type Lookup interface {
	Get(path string) (string, bool)
	Paths() []string
}

// IsLead reports whether a signup is a lead. A source's rule (field and
// values) decides when it has one; otherwise a signup is a lead when
// Referral Factory says the user was invited (type person_invited), names
// a referrer (referrer_id, referrer_code, referrer_email or a referrer
// object), or came by a referral (source Referred).
func IsLead(rule *tenants.LeadRule, p Lookup) bool {
	if rule != nil && strings.TrimSpace(rule.Field) != "" {
		v, ok := p.Get(rule.Field)
		if !ok {
			return false
		}
		for _, want := range rule.Values {
			if w := strings.TrimSpace(want); w != "" && strings.EqualFold(strings.TrimSpace(v), w) {
				return true
			}
		}
		return false
	}
	if pl, ok := p.(*payload.Payload); ok {
		return isLeadFields(pl.Fields)
	}
	if v, _ := p.Get("type"); strings.EqualFold(strings.TrimSpace(v), "person_invited") {
		return true
	}
	if len(referrerKeys(p)) > 0 || hasReferrerObject(p) {
		return true
	}
	v, _ := p.Get("source")
	return strings.EqualFold(strings.TrimSpace(v), "referred")
}

// isLeadFields is the built-in rule in one pass over a normalized
// payload, without allocating (it runs for every webhook): a field name
// matches with case, '_', '-' and spaces ignored, under an envelope too, as
// payload.Get matches.
func isLeadFields(fields []payload.Field) bool {
	for _, f := range fields {
		path := stripEnvelope(f.Path)
		switch {
		case looseEq(path, "type"):
			if strings.EqualFold(strings.TrimSpace(f.Value), "person_invited") {
				return true
			}
		case looseEq(path, "source"):
			if strings.EqualFold(strings.TrimSpace(f.Value), "referred") {
				return true
			}
		case looseEq(path, "referrer_id"), looseEq(path, "referrer_code"), looseEq(path, "referrer_email"):
			if usable(f.Value) {
				return true
			}
		case len(path) > len("referrer.") && strings.EqualFold(path[:len("referrer.")], "referrer."):
			return true
		}
	}
	return false
}

// envelopePrefixes are the wrapper keys payload.Get looks through.
var envelopePrefixes = []string{"data.", "user.", "payload.", "body.", "object.", "record.", "attributes.", "event."}

func stripEnvelope(path string) string {
	for _, env := range envelopePrefixes {
		if len(path) > len(env) && strings.EqualFold(path[:len(env)], env) {
			return strings.TrimPrefix(path[len(env):], "0.")
		}
	}
	return path
}

// looseEq compares two field paths with ASCII case, '_', '-' and spaces
// ignored.
func looseEq(a, b string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && isSep(a[i]) {
			i++
		}
		for j < len(b) && isSep(b[j]) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if lower(a[i]) != lower(b[j]) {
			return false
		}
		i, j = i+1, j+1
	}
}

func isSep(c byte) bool { return c == '_' || c == '-' || c == ' ' }

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// usable reports whether a value names someone: an id of 0 or a "null"
// string does not.
func usable(v string) bool {
	v = strings.TrimSpace(v)
	return v != "" && v != "0" && !strings.EqualFold(v, "null")
}

// hasReferrerObject reports whether the payload nests a referrer object
// (referrer.first_name, data.referrer.url, …).
func hasReferrerObject(p Lookup) bool {
	for _, path := range p.Paths() {
		l := strings.ToLower(path)
		if strings.HasPrefix(l, "referrer.") || strings.Contains(l, ".referrer.") {
			return true
		}
	}
	return false
}

// value returns the first usable value at one of paths: an id of 0 or a
// "null" string is no value.
func value(p Lookup, paths ...string) string {
	for _, path := range paths {
		if v, ok := p.Get(path); ok && usable(v) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Identity keys name a person in the referrer index: by Referral Factory
// user id, referral code or email. Ids and codes are unique across Referral
// Factory, and an email is one contact per portal, so the index is per
// portal, whichever source delivered the person.
func idKey(v string) string    { return "id:" + v }
func codeKey(v string) string  { return "code:" + v }
func emailKey(v string) string { return "email:" + strings.ToLower(v) }

// referrerKeys are the identity keys a lead's payload names its referrer
// by, most specific first.
func referrerKeys(p Lookup) []string {
	var keys []string
	if v := value(p, "referrer_id", "referrer.id"); v != "" {
		keys = append(keys, idKey(v))
	}
	if v := value(p, "referrer_code", "referrer.code"); v != "" {
		keys = append(keys, codeKey(v))
	}
	if v := value(p, "referrer_email", "referrer.email"); v != "" {
		keys = append(keys, emailKey(v))
	}
	return keys
}

// Subject is one delivered signup as this package sees it: who it is, and
// for a lead, who referred it.
type Subject struct {
	Source    string
	Route     string
	Lead      bool
	Code      string   // the person's referral code ("" if the payload has none)
	Email     string   // as delivered (lowercased)
	Self      []string // identity keys of the person
	Referrer  []string // identity keys naming the referrer (leads only)
	Qualified bool     // Referral Factory reports the lead qualified (qualified_at set)
	// NoWait: the lead's source sends no referrers to HubSpot, so the lead
	// does not wait for its referrer's contact (it is linked to one already
	// there, e.g. from another source).
	NoWait bool
	// CountProps are the contact properties of the person's mapping fed by
	// Referral Factory's referral counts ("" when not mapped).
	CountProps Counts
}

// Counts names the two referral-count properties, or holds the two counts.
type Counts struct {
	Leads, Qualified string
}

// Describe reads a signup of src as delivered with email, under the
// mapping m it was delivered with.
func Describe(src *tenants.Source, route string, lead bool, m tenants.Mapping, p Lookup, email string) Subject {
	s := Subject{Source: src.ID, Route: route, Lead: lead, Email: email, CountProps: CountProperties(m)}
	if v := value(p, "id"); v != "" {
		s.Self = append(s.Self, idKey(v))
	}
	if s.Code = value(p, "code"); s.Code != "" {
		s.Self = append(s.Self, codeKey(s.Code))
	}
	if email != "" {
		s.Self = append(s.Self, emailKey(email))
	}
	if lead {
		s.Referrer = referrerKeys(p)
		s.Qualified = value(p, "qualified_at") != ""
		s.NoWait = !src.Sends(false)
	}
	return s
}

// KnownByEmailOnly keeps the person out of the index under its Referral
// Factory id and code (a test signup carries someone else's).
func (s *Subject) KnownByEmailOnly() {
	s.Self = nil
	if s.Email != "" {
		s.Self = []string{emailKey(s.Email)}
	}
}

// leadKey names a lead for qualification: its code, else its email.
func (s Subject) leadKey() string {
	if s.Code != "" {
		return s.Code
	}
	return "email:" + s.Email
}

// CountProperties returns the properties m fills from Referral Factory's
// referral counts: those fed by a count field (referrals_count,
// converted_referrals_count and their usual aliases), or the recommended
// count properties wherever they are mapped.
func CountProperties(m tenants.Mapping) Counts {
	var c Counts
	for _, r := range properties.Recommended {
		var slot *string
		switch r.Property.Name {
		case properties.ReferralCount:
			slot = &c.Leads
		case properties.ConvertedReferralCount:
			slot = &c.Qualified
		default:
			continue
		}
		for _, f := range m.Fields {
			if f.To == r.Property.Name || containsFold(r.From, f.From) {
				*slot = f.To
				break
			}
		}
	}
	return c
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, strings.TrimSpace(s)) {
			return true
		}
	}
	return false
}
