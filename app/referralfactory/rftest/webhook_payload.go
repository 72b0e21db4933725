package rftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// kv is one key of a payload, in order. val is nil, a string, an int64,
// an int, []Meta or a nested []kv.
type kv struct {
	key string
	val any
}

// payloadLocked renders what a webhook sends for a user.
//
// Referral Factory publishes no payload schema. The keys here are the API
// User object's (documented), plus campaign_name and, for a lead, its
// referrer's fields: the names its HubSpot mapping lists ("Campaign Name",
// "Referrer First Name", "Referrer Email", "Referrer Referral Code",
// "Referrer Referral Link", "Referrals Count") in the API's snake_case. That
// flat shape, or a nested "referrer" object, is an assumption.
func (s *Server) payloadLocked(u *user, h *hook) []kv {
	var campaignName string
	if c := s.campaigns[u.CampaignID]; c != nil {
		campaignName = c.Name
	}
	var referrerID, qualifiedAt any
	if u.ReferrerID != 0 {
		referrerID = u.ReferrerID
	}
	if !u.QualifiedAt.IsZero() {
		qualifiedAt = formatDate(u.QualifiedAt)
	}
	meta := u.Meta
	if meta == nil {
		meta = []Meta{}
	}
	fields := []kv{{"id", u.ID}, {"campaign_id", u.CampaignID}, {"campaign_name", campaignName},
		{"referrer_id", referrerID}, {"code", u.Code}, {"url", u.URL}, {"first_name", u.FirstName},
		{"email", u.Email}, {"source", u.Source}, {"type", u.Type}, {"ip", u.IP},
		{"signed_up_at", formatDate(u.SignedUpAt)}, {"qualified_at", qualifiedAt}, {"meta", meta},
		{"referrals_count", u.Referrals}, {"converted_referrals_count", u.ConvertedReferrals}}
	if ref := s.byID[u.ReferrerID]; ref != nil {
		if h.NestedReferrer {
			fields = append(fields, kv{"referrer", []kv{{"id", ref.ID}, {"first_name", ref.FirstName},
				{"email", ref.Email}, {"code", ref.Code}, {"url", ref.URL}}})
		} else {
			fields = append(fields, kv{"referrer_first_name", ref.FirstName}, kv{"referrer_email", ref.Email},
				kv{"referrer_code", ref.Code}, kv{"referrer_url", ref.URL})
		}
	}
	return shape(fields, h.Webhook)
}

// shape applies the older UI's field toggles, renames and hidden fields.
func shape(fields []kv, w Webhook) []kv {
	out := make([]kv, 0, len(fields)+len(w.Hidden))
	for _, f := range fields {
		if w.Fields != nil && !contains(w.Fields, f.key) {
			continue
		}
		if to, ok := w.Rename[f.key]; ok && to != "" {
			f.key = to
		}
		out = append(out, f)
	}
	for _, k := range sortedKeys(w.Hidden) {
		out = append(out, kv{k, w.Hidden[k]})
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// encodeJSON writes fields as a JSON object in their order.
func encodeJSON(fields []kv) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		b.Write(k)
		b.WriteByte(':')
		if nested, ok := f.val.([]kv); ok {
			b.Write(encodeJSON(nested))
			continue
		}
		v, _ := json.Marshal(f.val)
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// encodeQuery writes fields as a query string in their order, nesting with
// brackets (meta[0][field]=Company, referrer[email]=...); nulls are left out.
func encodeQuery(fields []kv) string {
	var parts []string
	var walk func(prefix string, fields []kv)
	add := func(k, v string) { parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v)) }
	walk = func(prefix string, fields []kv) {
		for _, f := range fields {
			key := f.key
			if prefix != "" {
				key = prefix + "[" + f.key + "]"
			}
			switch v := f.val.(type) {
			case nil:
			case []kv:
				walk(key, v)
			case []Meta:
				for i, m := range v {
					add(fmt.Sprintf("%s[%d][field]", key, i), m.Field)
					if m.Value != nil {
						add(fmt.Sprintf("%s[%d][value]", key, i), fmt.Sprint(m.Value))
					}
				}
			default:
				add(key, fmt.Sprint(v))
			}
		}
	}
	walk("", fields)
	return strings.Join(parts, "&")
}
