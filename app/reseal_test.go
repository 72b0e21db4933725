package app_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/oauth"
)

// TestKeyRotation: a new key put first keeps old ciphertexts readable;
// after Reseal the old key can be removed and everything still works.
func TestKeyRotation(t *testing.T) {
	ropts := redistest.Options(t)
	k1, k2 := oauth.GenerateKeySpec("k1"), oauth.GenerateKeySpec("k2")
	first := apptest.Start(t, apptest.Options{Redis: ropts, Configure: func(c *app.Config) { c.EncryptionKeys = k1 }})
	require.NoError(t, first.Redis.FlushDB(context.Background()).Err())
	b := first.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	b.JSON(http.MethodPut, "/api/v1/sources/"+src.ID+"/qualification", map[string]any{
		"rf_inbound_url": "https://referral-factory.com/webhook/tok-0123456789/qualify",
		"when":           map[string]string{"object": "contact", "property": "lifecyclestage", "value": "customer"}}, http.StatusOK, nil)
	var tok struct {
		Secret string `json:"secret"`
	}
	b.JSON(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "script"}, http.StatusCreated, &tok)
	stored, err := first.App.Store().Source(context.Background(), src.ID)
	require.NoError(t, err)
	stored.RFToken = "rf-api-token-of-the-customer"
	_, err = first.App.Store().SaveSource(context.Background(), stored)
	require.NoError(t, err)
	same := func(keys string) func(*app.Config) {
		return func(c *app.Config) {
			c.APIBase, c.AppBase, c.EncryptionKeys = first.Sim.URL(), first.Sim.URL(), keys
			c.ClientID, c.ClientSecret, c.SessionSecret = first.Config.ClientID, first.Config.ClientSecret, first.Config.SessionSecret
		}
	}

	rotated := apptest.Start(t, apptest.Options{Redis: ropts, Configure: same(k2 + "," + k1)})
	status, _ := apptest.Post(t, rotated.URL("/hooks/referral-factory/"+src.WebhookURL[len(first.URL("/hooks/referral-factory/")):]),
		"application/json", []byte(`{"email":"before@example.com"}`))
	require.Equal(t, http.StatusAccepted, status, "old ciphertexts open with the old key still configured")
	rep, err := rotated.App.Reseal(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Portals)
	assert.Equal(t, 1, rep.Sources)
	assert.Equal(t, 1, rep.QualificationRules)

	onlyNew := apptest.Start(t, apptest.Options{Redis: ropts, Configure: same(k2)})
	status, body := apptest.Post(t, onlyNew.URL("/hooks/referral-factory/"+src.WebhookURL[len(first.URL("/hooks/referral-factory/")):]),
		"application/json", []byte(`{"email":"after@example.com"}`))
	require.Equal(t, http.StatusAccepted, status, "webhook tokens were re-sealed: %s", body)
	onlyNew.Drain(context.Background())
	assert.Len(t, first.Sim.Contacts(1001), 2, "portal tokens were re-sealed: delivery works with k2 alone")
	resealed, err := onlyNew.App.Store().Source(context.Background(), src.ID)
	require.NoError(t, err, "every secret of the source opens with k2 alone")
	assert.Equal(t, "rf-api-token-of-the-customer", resealed.RFToken, "the Referral Factory API token was re-sealed")
	req, _ := http.NewRequest(http.MethodGet, onlyNew.URL("/api/v1/sources/"+src.ID+"/qualification"), nil)
	req.Header.Set("Authorization", "Bearer "+tok.Secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the inbound URL was re-sealed")
}
