package rftest

import (
	"fmt"
	"strings"
	"time"
)

// Sources are the API's user source values.
var Sources = []string{"Direct", "Referred", "Api", "Added", "Zapier", "Widget", "Popup", "Embed", "Test"}

// User types.
const (
	TypePersonReferring = "person_referring"
	TypePersonInvited   = "person_invited"
)

// Meta is one custom campaign form field a user filled in.
type Meta struct {
	Field string `json:"field"`
	Value any    `json:"value"`
}

// NewUser is a user joining a campaign.
type NewUser struct {
	CampaignID int64
	FirstName  string
	Email      string
	// ReferrerID makes the user a lead (person invited) of that referrer,
	// who must be in the same campaign; 0 makes a referrer.
	ReferrerID int64
	// Source defaults to Referred for a lead and Direct for a referrer.
	Source string
	Meta   []Meta
	// Coupon is a coupon code the inbound webhook also qualifies by.
	Coupon string
	IP     string
	// SignedUpAt defaults to the clock's now.
	SignedUpAt time.Time
}

// User is a user as the simulator holds it.
type User struct {
	ID          int64
	CampaignID  int64
	ReferrerID  int64
	Code        string
	URL         string
	FirstName   string
	Email       string
	Source      string
	Type        string
	Coupon      string
	IP          string
	SignedUpAt  time.Time
	QualifiedAt time.Time // zero while not qualified
	Meta        []Meta
	// Referrals and ConvertedReferrals count this user's leads and the
	// qualified ones among them.
	Referrals          int
	ConvertedReferrals int
}

type user struct {
	User
	accountID int64
}

// AddUser makes a user join a campaign, and sends the campaign's join
// webhooks. As in Referral Factory, an email joins a campaign once.
func (s *Server) AddUser(nu NewUser) (User, error) {
	s.mu.Lock()
	u, err := s.addUserLocked(nu)
	var sends []send
	if err == nil {
		sends = s.joinSendsLocked(u)
	}
	s.mu.Unlock()
	if err != nil {
		return User{}, err
	}
	s.deliver(sends)
	return u.User, nil
}

func (s *Server) addUserLocked(nu NewUser) (*user, error) {
	c, ok := s.campaigns[nu.CampaignID]
	if !ok {
		return nil, fmt.Errorf("rftest: no campaign %d", nu.CampaignID)
	}
	email := strings.TrimSpace(nu.Email)
	if email == "" || !strings.Contains(email, "@") {
		return nil, fmt.Errorf("rftest: a user needs an email address")
	}
	emailKey := fmt.Sprintf("%d:%s", c.ID, strings.ToLower(email))
	if s.emails[emailKey] {
		return nil, fmt.Errorf("rftest: %s already joined campaign %d", email, c.ID)
	}
	if nu.Coupon != "" && s.codes[nu.Coupon] {
		return nil, fmt.Errorf("rftest: coupon %q is already in use", nu.Coupon)
	}
	var ref *user
	if nu.ReferrerID != 0 {
		ref = s.byID[nu.ReferrerID]
		if ref == nil || ref.CampaignID != c.ID {
			return nil, fmt.Errorf("rftest: referrer %d is not in campaign %d", nu.ReferrerID, c.ID)
		}
	}
	u := &user{accountID: c.AccountID, User: User{ID: s.nextUser, CampaignID: c.ID, ReferrerID: nu.ReferrerID,
		FirstName: nu.FirstName, Email: email, Source: nu.Source, Coupon: nu.Coupon, IP: nu.IP,
		SignedUpAt: nu.SignedUpAt, Meta: append([]Meta(nil), nu.Meta...)}}
	s.nextUser++
	u.Code = s.newCodeLocked(8)
	u.URL = strings.TrimRight(s.opts.PublicBase, "/") + "/" + c.Code + "?code=" + u.Code
	u.Type, u.Source = TypePersonReferring, defaultString(u.Source, "Direct")
	if ref != nil {
		u.Type, u.Source = TypePersonInvited, defaultString(nu.Source, "Referred")
		ref.Referrals++
	}
	if u.SignedUpAt.IsZero() {
		u.SignedUpAt = s.now()
	}
	if u.IP == "" {
		u.IP = "203.0.113.10"
	}
	if u.Coupon != "" {
		s.codes[u.Coupon] = true
		s.byCode[u.Coupon] = u
	}
	s.byCode[u.Code] = u
	s.emails[emailKey] = true
	s.users = append(s.users, u)
	s.byID[u.ID] = u
	return u, nil
}

func defaultString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// QualifyUser qualifies a lead as the dashboard's Qualify action does, and
// sends the campaign's "A lead is qualified" webhooks. A referral qualifies
// once: qualifying it again changes nothing and sends nothing.
func (s *Server) QualifyUser(id int64) (User, error) {
	s.mu.Lock()
	u, ok := s.byID[id]
	if !ok {
		s.mu.Unlock()
		return User{}, fmt.Errorf("rftest: no user %d", id)
	}
	sends, err := s.qualifyLocked(u)
	snap := u.User
	s.mu.Unlock()
	if err != nil {
		return User{}, err
	}
	s.deliver(sends)
	return snap, nil
}

// errNotLead is refusing to qualify a person referring.
var errNotLead = fmt.Errorf("only referred users (leads) can be qualified")

func (s *Server) qualifyLocked(u *user) ([]send, error) {
	if u.Type != TypePersonInvited {
		return nil, errNotLead
	}
	if !u.QualifiedAt.IsZero() {
		return nil, nil
	}
	u.QualifiedAt = s.now()
	if ref := s.byID[u.ReferrerID]; ref != nil {
		ref.ConvertedReferrals++
	}
	return s.qualifiedSendsLocked(u), nil
}

// User returns the user with id.
func (s *Server) User(id int64) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return User{}, false
	}
	return u.User, true
}

// Users returns the users of a campaign, by ascending id.
func (s *Server) Users(campaignID int64) []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []User
	for _, u := range s.users {
		if u.CampaignID == campaignID {
			out = append(out, u.User)
		}
	}
	return out
}
