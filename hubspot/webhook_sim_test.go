package hubspot_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
)

// TestVerifierAcceptsOnlyWhatTheSimulatorSignsLikeHubSpot checks the two
// independent implementations against each other: every delivery the
// simulator signs like HubSpot verifies, every forgery is refused for the
// right reason.
func TestVerifierAcceptsOnlyWhatTheSimulatorSignsLikeHubSpot(t *testing.T) {
	e := newEnv(t)
	const public = "https://refhub.example.com/hooks/hubspot?tenant=a%3Ab"
	var mu sync.Mutex
	var verdicts []error
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := hubspot.VerifyWebhookV3("test-client-secret", r.Method, public, body,
			r.Header.Get(hubspot.HeaderRequestTimestamp), r.Header.Get(hubspot.HeaderSignatureV3), e.clock.Now())
		mu.Lock()
		verdicts = append(verdicts, err)
		mu.Unlock()
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(app.Close)
	require.NoError(t, e.sim.ConfigureWebhooks(hubspottest.WebhookConfig{TargetURL: public,
		Subscriptions: []hubspottest.WebhookSubscription{{SubscriptionType: "contact.propertyChange", PropertyName: "lifecyclestage", Active: true}}}))
	c := e.sim.SeedContact(hubAcme, map[string]string{"email": "a@x.test"})
	require.NoError(t, e.sim.SetContactProperty(hubAcme, c.ID, "lifecyclestage", "customer"))

	cases := []struct {
		mode hubspottest.SignatureMode
		want error
	}{
		{hubspottest.SignWrongSecret, hubspot.ErrWebhookBadSignature},
		{hubspottest.SignStale, hubspot.ErrWebhookStale},
		{hubspottest.SignUnsigned, hubspot.ErrWebhookUnsigned},
		{hubspottest.SignTamperedBody, hubspot.ErrWebhookBadSignature},
		{hubspottest.SignOtherURI, hubspot.ErrWebhookBadSignature},
		{hubspottest.SignValid, nil},
	}
	for _, tc := range cases {
		t.Run(tc.mode.String(), func(t *testing.T) {
			mu.Lock()
			verdicts = nil
			mu.Unlock()
			attempts, err := e.sim.DeliverWebhooksWith(context.Background(), hubspottest.Delivery{Signature: tc.mode, Via: []string{app.URL}})
			require.NoError(t, err)
			require.Len(t, attempts, 1)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, verdicts, 1)
			if tc.want == nil {
				assert.NoError(t, verdicts[0])
				assert.True(t, attempts[0].OK())
				return
			}
			assert.True(t, errors.Is(verdicts[0], tc.want), "%s: got %v", tc.mode, verdicts[0])
			assert.Equal(t, http.StatusUnauthorized, attempts[0].Status)
		})
	}
	assert.Empty(t, e.sim.PendingWebhooks(), "the valid delivery was accepted")
}
