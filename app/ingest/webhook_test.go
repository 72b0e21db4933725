package ingest_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

// TestWebhookRefusesBadInput: each bad request gets its status and a clear
// message, and nothing is queued for any of them.
func TestWebhookRefusesBadInput(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	secured := b.CreateSource(1001, "With secret")
	var secret struct{ Header, Secret string }
	b.JSON(http.MethodPost, "/api/v1/sources/"+secured.ID+"/secret", map[string]string{"header": "X-RF-Key"}, http.StatusOK, &secret)
	require.Equal(t, "X-RF-Key", secret.Header)
	require.GreaterOrEqual(t, len(secret.Secret), 22, "at least 128 random bits")

	tests := []struct {
		name, url, contentType string
		body                   []byte
		headers                []string
		status                 int
		message                string
	}{
		{"unknown token", env.URL("/hooks/referral-factory/not-a-real-token"), "application/json", []byte(`{"email":"a@b.co"}`), nil, 404, "unknown webhook URL"},
		{"missing secret", secured.WebhookURL, "application/json", []byte(`{"email":"a@b.co"}`), nil, 401, "X-RF-Key"},
		{"wrong secret", secured.WebhookURL, "application/json", []byte(`{"email":"a@b.co"}`), []string{"X-RF-Key", "nope"}, 401, "X-RF-Key"},
		{"body over 1 MiB", src.WebhookURL, "application/json", append([]byte(`{"email":"a@b.co","x":"`), bytes.Repeat([]byte("a"), 1<<20)...), nil, 413, "1 MiB"},
		{"no email", src.WebhookURL, "application/json", []byte(`{"first_name":"Jane","code":"J1"}`), nil, 422, "first_name"},
		{"empty email", src.WebhookURL, "application/json", []byte(`{"email":"  ","first_name":"Jane"}`), nil, 422, "no value"},
		{"email with line break", src.WebhookURL, "application/json", []byte(`{"email":"a@b.co\r\nBcc: x@y.z"}`), nil, 422, "line breaks"},
		{"malformed JSON", src.WebhookURL, "application/json", []byte(`{"email":`), nil, 400, "not valid JSON"},
		{"JSON array", src.WebhookURL, "application/json", []byte(`[{"email":"a@b.co"}]`), nil, 400, "JSON object"},
		{"unsupported type", src.WebhookURL, "application/xml", []byte(`<email>a@b.co</email>`), nil, 415, "application/json"},
		{"repeated form field", src.WebhookURL, "application/x-www-form-urlencoded", []byte(`email=a%40b.co&email=c%40d.co`), nil, 422, "appears 2 times"},
		{"invalid UTF-8", src.WebhookURL, "application/json", []byte("{\"email\":\"a@b.co\",\"n\":\"\xff\xfe\"}"), nil, 400, "UTF-8"},
		{"empty body", src.WebhookURL, "application/json", nil, nil, 422, "no signup data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := apptest.Post(t, tc.url, tc.contentType, tc.body, tc.headers...)
			assert.Equal(t, tc.status, status, string(body))
			assert.Contains(t, string(body), tc.message)
			assert.NotContains(t, string(body), "goroutine", "no stack trace")
		})
	}
	depth, err := env.App.Queue().Depth(context.Background(), 1001)
	require.NoError(t, err)
	assert.Zero(t, depth, "nothing is queued for refused requests")

	rejected := b.Activity(src.ID, "?status=rejected")
	require.NotEmpty(t, rejected, "refusals are recorded in the source's activity")
	var noEmail *apptest.Event
	for i := range rejected {
		if strings.Contains(rejected[i].Reason, "first_name") {
			noEmail = &rejected[i]
		}
	}
	require.NotNil(t, noEmail, "the missing-email refusal is in the activity")
	assert.Contains(t, noEmail.Reason, `reads the email from "email"`)

	status, body := apptest.Post(t, secured.WebhookURL, "application/json", []byte(`{"email":"ok@b.co"}`), "X-RF-Key", secret.Secret)
	assert.Equal(t, http.StatusAccepted, status, "the right secret is accepted: %s", body)
}

// TestWebhookDeduplicates: the same body twice within 24 h is delivered
// once. The window is the expiry Redis keeps on the body's marker; it is
// compared with 24 hours written out here.
func TestWebhookDeduplicates(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Delivery: true})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	body := []byte(`{"email":"twice@example.com","first_name":"Twice"}`)
	status, first := apptest.Post(t, src.WebhookURL, "application/json", body)
	require.Equal(t, http.StatusAccepted, status)
	status, second := apptest.Post(t, src.WebhookURL, "application/json", body)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(second), "duplicate")
	assert.Contains(t, string(second), strings.Split(strings.Split(string(first), `"id":"`)[1], `"`)[0], "the duplicate answer names the first event")
	markers, err := env.Redis.Keys(context.Background(), "{p:1001}:seen:*").Result()
	require.NoError(t, err)
	require.Len(t, markers, 1, "one marker for the body")
	ttl, err := env.Redis.PTTL(context.Background(), markers[0]).Result()
	require.NoError(t, err)
	assert.InDelta(t, (24 * time.Hour).Seconds(), ttl.Seconds(), 5, "a repeat is recognised for 24 hours")
	apptest.Eventually(t, 10*time.Second, "delivery", func() bool { return len(b.Activity(src.ID, "?status=delivered")) == 1 })
	assert.Len(t, b.Activity(src.ID, ""), 1, "one event in the activity")
	assert.Equal(t, 1, env.Sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == "contacts.batch.upsert" }))
}

// TestNothingLostAcrossRestart: refhub answers 202 and stops before
// delivering; a new refhub on the same Redis delivers everything.
func TestNothingLostAcrossRestart(t *testing.T) {
	ropts := redistest.Options(t)
	first := apptest.Start(t, apptest.Options{Redis: ropts})
	require.NoError(t, first.Redis.FlushDB(context.Background()).Err())
	b := first.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	for i := 0; i < 25; i++ {
		status, body := apptest.Post(t, src.WebhookURL, "application/json",
			[]byte(`{"email":"restart`+itoa(int64(i))+`@example.com","first_name":"R"}`))
		require.Equal(t, http.StatusAccepted, status, string(body))
	}
	first.Server.Close() // refhub 1 stops; it never delivered anything
	assert.Empty(t, first.Sim.Contacts(1001))

	second := apptest.Start(t, apptest.Options{Redis: ropts, Delivery: true, Configure: func(c *app.Config) {
		c.APIBase, c.AppBase = first.Sim.URL(), first.Sim.URL()
		c.ClientID, c.ClientSecret = first.Config.ClientID, first.Config.ClientSecret
		c.EncryptionKeys, c.SessionSecret = first.Config.EncryptionKeys, first.Config.SessionSecret
	}})
	_ = second
	apptest.Eventually(t, 10*time.Second, "all 25 contacts", func() bool { return len(first.Sim.Contacts(1001)) == 25 })
}
