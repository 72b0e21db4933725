package referralfactory_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/app/referralfactory/rftest"
)

func TestQualifyMarksTheLeadQualified(t *testing.T) {
	e := newEnv(t, rftest.Options{})
	ref, err := e.sim.AddUser(rftest.NewUser{CampaignID: e.c1.ID, Email: "ann@example.test"})
	require.NoError(t, err)
	lead, err := e.sim.AddUser(rftest.NewUser{CampaignID: e.c1.ID, ReferrerID: ref.ID, Email: "bob@example.test"})
	require.NoError(t, err)
	e.clock.Advance(time.Hour)

	require.NoError(t, e.client.Qualify(context.Background(), e.sim.InboundURL(e.acct.ID), lead.Code))
	got, _ := e.sim.User(lead.ID)
	assert.Equal(t, t0.Add(time.Hour), got.QualifiedAt)
	require.NoError(t, e.client.Qualify(context.Background(), e.sim.InboundURL(e.acct.ID), lead.Code), "again: still fine")

	u, err := e.account().User(context.Background(), lead.Code)
	require.NoError(t, err)
	assert.True(t, u.Qualified())
	at, err := referralfactory.ParseTime(u.QualifiedAt)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(time.Hour), at)
}

func TestQualifyTypedRefusals(t *testing.T) {
	e := newEnv(t, rftest.Options{})
	ref, err := e.sim.AddUser(rftest.NewUser{CampaignID: e.c1.ID, Email: "ann@example.test"})
	require.NoError(t, err)
	a, _ := e.sim.Account(e.acct.ID)
	inbound := e.sim.InboundURL(e.acct.ID)

	err = e.client.Qualify(context.Background(), inbound, "NOSUCHCODE")
	var ve *referralfactory.ValidationError
	require.ErrorAs(t, err, &ve, "an unknown code")
	assert.Equal(t, []string{"The selected code is invalid."}, ve.Fields["code"])
	_, retry := referralfactory.RetryDelay(err)
	assert.False(t, retry, "an unknown code stays unknown")

	err = e.client.Qualify(context.Background(), inbound, ref.Code)
	require.ErrorAs(t, err, &ve, "a referrer is not a referral")

	err = e.client.Qualify(context.Background(), e.sim.URL()+"/webhook/notatoken/qualify", ref.Code)
	var nf *referralfactory.NotFoundError
	require.ErrorAs(t, err, &nf, "an unknown inbound token")

	before := len(e.sim.Requests())
	for _, code := range []string{"", "   ", strings.Repeat("x", 201), "a\nb"} {
		err = e.client.Qualify(context.Background(), inbound, code)
		require.ErrorAs(t, err, &ve, "code %q", code)
	}
	assert.Len(t, e.sim.Requests(), before, "refused codes are never sent")
	assert.NotContains(t, err.Error(), a.InboundToken)
}

func TestQualifyNeverFollowsRedirectsOrLeaksTheToken(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()

	c, err := referralfactory.New(referralfactory.Config{Base: redirector.URL})
	require.NoError(t, err)
	err = c.Qualify(context.Background(), redirector.URL+"/webhook/SeCrEtToKeN/qualify", "CODE1")
	var ae *referralfactory.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusTemporaryRedirect, ae.StatusCode)
	assert.Zero(t, elsewhere.Load(), "the redirect was not followed")

	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	defer slow.Close()
	defer close(hang)
	c, err = referralfactory.New(referralfactory.Config{Base: slow.URL, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	require.NoError(t, err)
	err = c.Qualify(context.Background(), slow.URL+"/webhook/SeCrEtToKeN/qualify", "CODE1")
	var ne *referralfactory.NetworkError
	require.ErrorAs(t, err, &ne, "the injected client's timeout ends the call")
	_, retry := referralfactory.RetryDelay(err)
	assert.True(t, retry)
	assert.NotContains(t, err.Error(), "SeCrEtToKeN", "the inbound token is never in an error")
	assert.Contains(t, err.Error(), "/webhook/{token}/qualify")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = c.Qualify(ctx, slow.URL+"/webhook/SeCrEtToKeN/qualify", "CODE1")
	require.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), "SeCrEtToKeN")
}
