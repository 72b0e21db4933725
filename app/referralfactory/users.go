package referralfactory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxPerPage is the largest page GET /users serves (per_page max 250).
const MaxPerPage = 250

// User types (the API's "type" enum).
const (
	TypePersonReferring = "person_referring"
	TypePersonInvited   = "person_invited"
)

// User is one user of the API's User object
// (developers.referral-factory.com/reference/user-structure). Typed fields
// are read leniently (an id sent as a string still counts); Raw is the
// object exactly as the API sent it, for the webhook payload pipeline.
type User struct {
	ID         int64
	CampaignID int64
	// ReferrerID is the id of the user who referred this one; 0 for a
	// referrer (the API sends null or leaves it out).
	ReferrerID int64
	Code       string
	URL        string
	FirstName  string
	Email      string
	Source     string // Direct, Referred, Api, Added, Zapier, Widget, Popup, Embed, Test
	Type       string // person_referring or person_invited
	// SignedUpAt and QualifiedAt are as the API sent them; QualifiedAt is
	// empty while the user is not qualified. Times parse them.
	SignedUpAt  string
	QualifiedAt string
	Meta        []MetaField
	// ReferralsCount and ConvertedReferralsCount are nil when the API did
	// not send them (they are not in the documented User object).
	ReferralsCount          *int64
	ConvertedReferralsCount *int64
	Raw                     json.RawMessage
}

// MetaField is one custom campaign form field: its label and the value the
// user filled in (any JSON value).
type MetaField struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

// Text is the value as text: a JSON string unquoted, anything else as sent.
func (m MetaField) Text() string {
	var s string
	if json.Unmarshal(m.Value, &s) == nil {
		return s
	}
	if bytes.Equal(bytes.TrimSpace(m.Value), []byte("null")) {
		return ""
	}
	return string(m.Value)
}

// IsLead reports whether the user is a person invited: by type, or, when
// the type is missing, by having a referrer.
func (u *User) IsLead() bool {
	if u.Type != "" {
		return u.Type == TypePersonInvited
	}
	return u.ReferrerID != 0
}

// Qualified reports whether the user has been qualified.
func (u *User) Qualified() bool { return u.QualifiedAt != "" }

// ParseTime reads a date as the API writes it: RFC 3339 (with or without
// fractional seconds), "2006-01-02 15:04:05" (taken as UTC) or a bare date.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("referralfactory: unrecognised date %q", clip(s))
}

// UsersPage is one page of GET /users: its users and the paging fields as
// the API gave them.
type UsersPage struct {
	Users []User
	Meta  PageMeta
	Links PageLinks
}

// PageMeta is the "meta" object of a page (0 when absent).
type PageMeta struct {
	CurrentPage int
	LastPage    int
	PerPage     int
	Total       int
	From, To    int
}

// PageLinks is the "links" object of a page ("" when absent or null).
type PageLinks struct {
	First, Last, Prev, Next string
}

// HasNext reports whether another page follows: links.next is set or
// meta says this is not the last page. An empty page never has a next one,
// so a caller cannot loop forever on an API that keeps pointing onwards.
func (p *UsersPage) HasNext() bool {
	if len(p.Users) == 0 {
		return false
	}
	return p.Links.Next != "" || (p.Meta.LastPage > 0 && p.Meta.CurrentPage < p.Meta.LastPage)
}

// Users returns page (from 1) of the account's users, perPage (1..250) to
// a page. The API is known to ignore campaign_id on this endpoint, so none
// is sent: every campaign's users come back and the caller filters by
// User.CampaignID.
func (a *Account) Users(ctx context.Context, page, perPage int) (*UsersPage, error) {
	if page < 1 {
		return nil, fmt.Errorf("referralfactory: users: page %d: pages start at 1", page)
	}
	if perPage < 1 || perPage > MaxPerPage {
		return nil, fmt.Errorf("referralfactory: users: per_page %d: must be 1..%d", perPage, MaxPerPage)
	}
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(perPage)}}
	body, err := a.get(ctx, "list users", "/users", q)
	if err != nil {
		return nil, err
	}
	return decodeUsersPage(body)
}

// User returns one user by identifier: the API takes an email address or a
// referral code (and, per its guides, the numeric id).
func (a *Account) User(ctx context.Context, identifier string) (*User, error) {
	identifier = strings.TrimSpace(identifier)
	if identifier == "" {
		return nil, fmt.Errorf("referralfactory: user: empty identifier")
	}
	body, err := a.get(ctx, "get user", "/users/"+url.PathEscape(identifier), nil)
	if err != nil {
		return nil, err
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	raw := json.RawMessage(body)
	if json.Unmarshal(body, &env) == nil && len(env.Data) > 0 && env.Data[0] == '{' {
		raw = env.Data
	}
	u, err := decodeUser(raw)
	if err != nil {
		return nil, fmt.Errorf("referralfactory: get user: %w", err)
	}
	return u, nil
}

func decodeUsersPage(body []byte) (*UsersPage, error) {
	var wire struct {
		Data  *[]json.RawMessage `json:"data"`
		Meta  map[string]flexInt `json:"meta"`
		Links map[string]*string `json:"links"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, fmt.Errorf("referralfactory: list users: answer is not a page of users: %w", err)
	}
	if wire.Data == nil {
		return nil, fmt.Errorf("referralfactory: list users: answer has no data list")
	}
	p := &UsersPage{Users: make([]User, 0, len(*wire.Data))}
	for i, raw := range *wire.Data {
		u, err := decodeUser(raw)
		if err != nil {
			return nil, fmt.Errorf("referralfactory: list users: user %d of the page: %w", i, err)
		}
		p.Users = append(p.Users, *u)
	}
	m := wire.Meta
	p.Meta = PageMeta{CurrentPage: m["current_page"].int(), LastPage: m["last_page"].int(),
		PerPage: m["per_page"].int(), Total: m["total"].int(), From: m["from"].int(), To: m["to"].int()}
	link := func(k string) string {
		if v := wire.Links[k]; v != nil {
			return *v
		}
		return ""
	}
	p.Links = PageLinks{First: link("first"), Last: link("last"), Prev: link("prev"), Next: link("next")}
	return p, nil
}

// wireUser reads the typed fields leniently; Raw keeps everything.
type wireUser struct {
	ID                      flexInt         `json:"id"`
	CampaignID              flexInt         `json:"campaign_id"`
	ReferrerID              flexInt         `json:"referrer_id"`
	Code                    flexString      `json:"code"`
	URL                     flexString      `json:"url"`
	FirstName               flexString      `json:"first_name"`
	Email                   flexString      `json:"email"`
	Source                  flexString      `json:"source"`
	Type                    flexString      `json:"type"`
	SignedUpAt              flexString      `json:"signed_up_at"`
	QualifiedAt             flexString      `json:"qualified_at"`
	Meta                    json.RawMessage `json:"meta"`
	ReferralsCount          *flexInt        `json:"referrals_count"`
	ConvertedReferralsCount *flexInt        `json:"converted_referrals_count"`
}

func decodeUser(raw json.RawMessage) (*User, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("not a user object")
	}
	var w wireUser
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, err
	}
	u := &User{ID: int64(w.ID), CampaignID: int64(w.CampaignID), ReferrerID: int64(w.ReferrerID),
		Code: string(w.Code), URL: string(w.URL), FirstName: string(w.FirstName), Email: string(w.Email),
		Source: string(w.Source), Type: string(w.Type), SignedUpAt: string(w.SignedUpAt),
		QualifiedAt: string(w.QualifiedAt), Raw: append(json.RawMessage(nil), raw...)}
	// meta is a list of {field, value}; anything else is left to Raw.
	var meta []MetaField
	if json.Unmarshal(w.Meta, &meta) == nil {
		for _, m := range meta {
			if m.Field != "" {
				u.Meta = append(u.Meta, m)
			}
		}
	}
	if w.ReferralsCount != nil {
		n := int64(*w.ReferralsCount)
		u.ReferralsCount = &n
	}
	if w.ConvertedReferralsCount != nil {
		n := int64(*w.ConvertedReferralsCount)
		u.ConvertedReferralsCount = &n
	}
	return u, nil
}

// flexInt reads a JSON number or a numeric string; null or anything else
// is 0 rather than an error, so one odd field does not lose a user.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(n)
	} else if x, err := strconv.ParseFloat(s, 64); err == nil && x == float64(int64(x)) {
		*f = flexInt(int64(x))
	}
	return nil
}

func (f flexInt) int() int { return int(f) }

// flexString reads a JSON string, or a number or bool as its text; null
// and objects are "".
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexString(s)
		return nil
	}
	t := strings.TrimSpace(string(b))
	if t != "null" && t != "" && t[0] != '{' && t[0] != '[' {
		*f = flexString(t)
	}
	return nil
}
