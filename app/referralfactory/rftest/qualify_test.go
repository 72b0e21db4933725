package rftest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pair is a referrer and one lead of theirs with a coupon.
func pair(t *testing.T, f *fixture) (User, User) {
	t.Helper()
	ref, err := f.s.AddUser(NewUser{CampaignID: f.c1.ID, FirstName: "Ann", Email: "ann@example.test"})
	require.NoError(t, err)
	lead, err := f.s.AddUser(NewUser{CampaignID: f.c1.ID, ReferrerID: ref.ID, FirstName: "Bob", Email: "bob@example.test", Coupon: "SAVE-BOB"})
	require.NoError(t, err)
	return ref, lead
}

func TestInboundQualifyMarksTheLeadOnce(t *testing.T) {
	f := newFixture(t, Options{}, 0, 0)
	ref, lead := pair(t, f)
	f.clock.Advance(time.Hour)
	resp, body := postForm(t, f.s.InboundURL(f.acct.ID), url.Values{"code": {lead.Code}})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", body)
	got, _ := f.s.User(lead.ID)
	assert.Equal(t, t0.Add(time.Hour), got.QualifiedAt)
	r, _ := f.s.User(ref.ID)
	assert.Equal(t, 1, r.ConvertedReferrals)

	f.clock.Advance(time.Hour)
	resp, _ = postForm(t, f.s.InboundURL(f.acct.ID), url.Values{"code": {lead.Code}})
	assert.Equal(t, http.StatusOK, resp.StatusCode, "qualifying again is not an error")
	got, _ = f.s.User(lead.ID)
	assert.Equal(t, t0.Add(time.Hour), got.QualifiedAt, "a referral qualifies once")
	r, _ = f.s.User(ref.ID)
	assert.Equal(t, 1, r.ConvertedReferrals)
}

func TestInboundQualifyByCouponAndJSON(t *testing.T) {
	f := newFixture(t, Options{}, 0, 0)
	_, lead := pair(t, f)
	resp, _ := postForm(t, f.s.InboundURL(f.acct.ID), url.Values{"code": {"SAVE-BOB"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got, _ := f.s.User(lead.ID)
	assert.False(t, got.QualifiedAt.IsZero(), "a coupon code qualifies its user")

	lead2, err := f.s.AddUser(NewUser{CampaignID: f.c1.ID, ReferrerID: lead.ReferrerID, Email: "cy@example.test"})
	require.NoError(t, err)
	resp, _ = call(t, http.MethodPost, f.s.InboundURL(f.acct.ID), "", http.Header{"Content-Type": {"application/json"}},
		strings.NewReader(`{"code":"`+lead2.Code+`"}`))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got, _ = f.s.User(lead2.ID)
	assert.False(t, got.QualifiedAt.IsZero())
}

func TestInboundQualifyRefusals(t *testing.T) {
	f := newFixture(t, Options{}, 0, 0)
	ref, lead := pair(t, f)
	other := f.s.AddAccount()
	oc, err := f.s.AddCampaign(other.ID, "Other")
	require.NoError(t, err)
	oref, err := f.s.AddUser(NewUser{CampaignID: oc.ID, Email: "o@example.test"})
	require.NoError(t, err)
	olead, err := f.s.AddUser(NewUser{CampaignID: oc.ID, ReferrerID: oref.ID, Email: "ol@example.test"})
	require.NoError(t, err)
	inbound := f.s.InboundURL(f.acct.ID)

	cases := []struct {
		name   string
		target string
		form   url.Values
		status int
	}{
		{"unknown token", f.s.URL() + "/webhook/nope/qualify", url.Values{"code": {lead.Code}}, http.StatusNotFound},
		{"no code", inbound, url.Values{}, http.StatusUnprocessableEntity},
		{"blank code", inbound, url.Values{"code": {"  "}}, http.StatusUnprocessableEntity},
		{"unknown code", inbound, url.Values{"code": {"NOPE1234"}}, http.StatusUnprocessableEntity},
		{"a referrer's code", inbound, url.Values{"code": {ref.Code}}, http.StatusUnprocessableEntity},
		{"another account's lead", inbound, url.Values{"code": {olead.Code}}, http.StatusUnprocessableEntity},
	}
	for _, tc := range cases {
		resp, body := postForm(t, tc.target, tc.form)
		assert.Equal(t, tc.status, resp.StatusCode, tc.name)
		assert.EqualValues(t, tc.status, body["code"], tc.name)
	}
	resp, _ := call(t, http.MethodGet, inbound+"?code="+lead.Code, "", nil, nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, _ = call(t, http.MethodPost, inbound, "", http.Header{"Content-Type": {"text/plain"}}, strings.NewReader("code="+lead.Code))
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "a body that is neither a form nor JSON carries no code")

	got, _ := f.s.User(olead.ID)
	assert.True(t, got.QualifiedAt.IsZero(), "one account's inbound URL cannot qualify another's lead")
	got, _ = f.s.User(lead.ID)
	assert.True(t, got.QualifiedAt.IsZero())
	a, _ := f.s.Account(f.acct.ID)
	for _, r := range f.s.Requests() {
		assert.NotContains(t, r.Path, a.InboundToken, "the inbound token is never logged")
	}
}
