package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
)

// trend is the answer of the stats endpoints.
type trend struct {
	TimeZone string `json:"time_zone"`
	Days     []struct {
		Date                                  string
		Received, Delivered, Failed, Rejected int64
	} `json:"days"`
	Queued          int64   `json:"queued"`
	QueueAgeSeconds float64 `json:"queue_age_seconds"`
}

// TestStats: a portal's and a source's counts per UTC day, oldest first
// and ending today, zeros on days without activity, the queue now; ?days=
// is 1 to 30, anything else a 400 that says so.
func TestStats(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Options{Clock: clock, Portals: agencyPortals})
	ctx := context.Background()
	b := env.Install(1001, 501)
	main := b.CreateSource(1001, "Main")
	other := b.CreateSource(1001, "Other")
	yesterday := clock.Now().UTC()
	apptest.PostMany(t, main.WebhookURL, append(apptest.Signups("y", 2, ""), []byte(`{"email":"bad@"}`)), 1)
	status, _ := apptest.Post(t, main.WebhookURL, "application/json", []byte(`{"first_name":"no email"}`))
	require.Equal(t, http.StatusUnprocessableEntity, status, "refused at the webhook")
	env.Drain(ctx)
	clock.Advance(24 * time.Hour)
	today := clock.Now().UTC()
	b.Install(1001, 501) // yesterday's session has expired
	env.StopDelivery()
	apptest.PostMany(t, other.WebhookURL, apptest.Signups("t", 1, ""), 1)

	var p trend
	b.JSON(http.MethodGet, "/api/v1/portals/1001/stats", nil, http.StatusOK, &p)
	assert.Equal(t, "UTC", p.TimeZone)
	require.Len(t, p.Days, 30, "30 days unless asked")
	assert.Equal(t, today.Format(time.DateOnly), p.Days[29].Date)
	assert.Equal(t, today.AddDate(0, 0, -29).Format(time.DateOnly), p.Days[0].Date)
	y := p.Days[28]
	assert.Equal(t, yesterday.Format(time.DateOnly), y.Date)
	assert.Equal(t, [4]int64{3, 2, 1, 1}, [4]int64{y.Received, y.Delivered, y.Failed, y.Rejected}, "received, delivered, failed, refused")
	assert.Equal(t, [4]int64{1, 0, 0, 0}, [4]int64{p.Days[29].Received, p.Days[29].Delivered, p.Days[29].Failed, p.Days[29].Rejected})
	for _, d := range p.Days[:28] {
		assert.Zero(t, d.Received+d.Delivered+d.Failed+d.Rejected, d.Date)
	}
	assert.Equal(t, int64(1), p.Queued)
	assert.Greater(t, p.QueueAgeSeconds, 0.0)

	var s trend
	b.JSON(http.MethodGet, "/api/v1/sources/"+main.ID+"/stats?days=2", nil, http.StatusOK, &s)
	require.Len(t, s.Days, 2)
	assert.Equal(t, [2]int64{2, 1}, [2]int64{s.Days[0].Delivered, s.Days[0].Failed})
	assert.Zero(t, s.Days[1].Received, "the signup of today is the other source's")
	assert.Equal(t, int64(1), s.Queued, "the queue of the source's portal")
	b.JSON(http.MethodGet, "/api/v1/sources/"+other.ID+"/stats?days=1", nil, http.StatusOK, &s)
	require.Len(t, s.Days, 1)
	assert.Equal(t, int64(1), s.Days[0].Received)

	// A source routed to a second portal of the workspace: its counts add
	// up over both, the portals' counts stay their own.
	b.Install(2002, 501)
	b.JSON(http.MethodPut, "/api/v1/sources/"+main.ID+"/routes", map[string]any{"routes": []any{map[string]any{
		"campaign_id": "77", "hub_id": 2002, "mapping": map[string]any{"fields": []map[string]string{{"from": "email", "to": "email"}}}}}},
		http.StatusOK, nil)
	apptest.PostMany(t, main.WebhookURL, apptest.Signups("routed", 2, `,"campaign_id":"77"`), 1)
	apptest.PostMany(t, main.WebhookURL, apptest.Signups("direct", 1, ""), 1)
	b.JSON(http.MethodGet, "/api/v1/sources/"+main.ID+"/stats?days=1", nil, http.StatusOK, &s)
	assert.Equal(t, int64(3), s.Days[0].Received, "2 at portal 2002, 1 at portal 1001")
	assert.Equal(t, int64(4), s.Queued, "the queues of both portals: 2 + 2 (one of them the other source's)")
	b.JSON(http.MethodGet, "/api/v1/portals/2002/stats?days=1", nil, http.StatusOK, &p)
	assert.Equal(t, int64(2), p.Days[0].Received)

	for _, q := range []string{"0", "31", "-1", "week", "1.5"} {
		for _, path := range []string{"/api/v1/portals/1001/stats", "/api/v1/sources/" + main.ID + "/stats"} {
			status, body := b.Do(http.MethodGet, path+"?days="+q, nil)
			assert.Equal(t, http.StatusBadRequest, status, "%s?days=%s", path, q)
			assert.Contains(t, string(body), "days must be a whole number from 1 to 30")
		}
	}
}

// TestStatsOfAnotherWorkspace: another workspace's portal and source
// answer 404 without their numbers, for a session and for an API token.
func TestStatsOfAnotherWorkspace(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Portals: agencyPortals})
	a := env.Install(1001, 501)
	src := a.CreateSource(1001, "Main")
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("a", 2, ""), 1)
	other := env.Install(3003, 909)
	var tok struct {
		Secret string `json:"secret"`
	}
	other.JSON(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "other"}, http.StatusCreated, &tok)

	for _, path := range []string{"/api/v1/portals/1001/stats", "/api/v1/sources/" + src.ID + "/stats"} {
		status, body := other.Do(http.MethodGet, path, nil)
		assert.Equal(t, http.StatusNotFound, status, "session: %s", path)
		assert.NotContains(t, string(body), `"days"`)
		req, _ := http.NewRequest(http.MethodGet, env.URL(path), nil)
		req.Header.Set("Authorization", "Bearer "+tok.Secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "token: %s", path)
		assert.NotContains(t, out, "days")
	}
	var own trend
	other.JSON(http.MethodGet, "/api/v1/portals/3003/stats", nil, http.StatusOK, &own)
	assert.Zero(t, own.Days[29].Received, "its own portal: none of the other workspace's signups")
	a.JSON(http.MethodGet, "/api/v1/portals/1001/stats", nil, http.StatusOK, &own)
	assert.Equal(t, int64(2), own.Days[29].Received)
}
