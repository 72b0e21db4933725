package rftest

import (
	"net/url"
	"time"
)

// dateLayout is how dates are written: Laravel's default JSON form
// (microseconds, UTC). Referral Factory documents the fields as dates
// without a format, so this is an assumption.
const dateLayout = "2006-01-02T15:04:05.000000Z"

func formatDate(t time.Time) string { return t.UTC().Format(dateLayout) }

func nullableDate(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatDate(t)
	return &s
}

// apiUser is the API's User object
// (developers.referral-factory.com/reference/user-structure), fields in the
// documented order. referrals_count and converted_referrals_count are not
// in that page; a third-party client reads them from the API's answers.
// reach and analytics are documented but their contents are not, so they
// are left out rather than invented.
type apiUser struct {
	ID                      int64   `json:"id"`
	CampaignID              int64   `json:"campaign_id"`
	ReferrerID              *int64  `json:"referrer_id"`
	Code                    string  `json:"code"`
	URL                     string  `json:"url"`
	FirstName               string  `json:"first_name"`
	Email                   string  `json:"email"`
	Source                  string  `json:"source"`
	Type                    string  `json:"type"`
	IP                      string  `json:"ip"`
	SignedUpAt              string  `json:"signed_up_at"`
	QualifiedAt             *string `json:"qualified_at"`
	UnsubscribedAt          *string `json:"unsubscribed_at"`
	Meta                    []Meta  `json:"meta"`
	Sharing                 sharing `json:"sharing"`
	ReferralsCount          int     `json:"referrals_count"`
	ConvertedReferralsCount int     `json:"converted_referrals_count"`
}

type sharing struct {
	Socials []social `json:"socials"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
}

type social struct {
	Social string `json:"social"`
	URL    string `json:"url"`
}

func toAPIUser(u *User) apiUser {
	out := apiUser{ID: u.ID, CampaignID: u.CampaignID, Code: u.Code, URL: u.URL, FirstName: u.FirstName,
		Email: u.Email, Source: u.Source, Type: u.Type, IP: u.IP, SignedUpAt: formatDate(u.SignedUpAt),
		QualifiedAt: nullableDate(u.QualifiedAt), Meta: u.Meta,
		ReferralsCount: u.Referrals, ConvertedReferralsCount: u.ConvertedReferrals}
	if out.Meta == nil {
		out.Meta = []Meta{}
	}
	if u.ReferrerID != 0 {
		id := u.ReferrerID
		out.ReferrerID = &id
	}
	text := "Join me: " + u.URL
	out.Sharing = sharing{Subject: "You're invited", Text: text, Socials: []social{
		{Social: "email", URL: "mailto:?subject=You%27re%20invited&body=" + url.QueryEscape(text)},
		{Social: "whatsapp", URL: "https://wa.me/?text=" + url.QueryEscape(text)},
	}}
	return out
}
