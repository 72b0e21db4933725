package backfill_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/app/referralfactory/rftest"
)

// TestStartRefusals: what a caller is told when a backfill cannot start.
func TestStartRefusals(t *testing.T) {
	e := newEnv(t, envOptions{})
	c, _ := e.campaign(t, 1, 1)
	path := "/api/v1/sources/" + e.src.ID + "/backfill"
	tests := []struct {
		name   string
		path   string
		body   map[string]any
		status int
		says   string
	}{
		{"no token", path, map[string]any{"campaign_id": c.ID}, http.StatusUnprocessableEntity, "give rf_api_token"},
		{"token refused by Referral Factory", path, map[string]any{"rf_api_token": "not-the-token", "campaign_id": c.ID},
			http.StatusUnprocessableEntity, "Referral Factory refused the API token (401 Unauthenticated.)"},
		{"token with spaces", path, map[string]any{"rf_api_token": "a b"}, http.StatusUnprocessableEntity, "not a Referral Factory API token"},
		{"bad mode", path, map[string]any{"rf_api_token": e.acct.Token, "mode": "all"}, http.StatusUnprocessableEntity, `mode is`},
		{"negative campaign", path, map[string]any{"rf_api_token": e.acct.Token, "campaign_id": -1}, http.StatusUnprocessableEntity, "campaign_id"},
		{"unknown source", "/api/v1/sources/src_nope/backfill", map[string]any{"rf_api_token": e.acct.Token}, http.StatusNotFound, "no such source"},
		{"unknown field", path, map[string]any{"token": e.acct.Token}, http.StatusBadRequest, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.browser.Do(http.MethodPost, tt.path, tt.body)
			assert.Equal(t, tt.status, status, "%s", body)
			assert.Contains(t, string(body), tt.says)
			assert.NotContains(t, string(body), e.acct.Token, "the token is never echoed")
		})
	}
	assert.Equal(t, "", e.status(t).Status, "nothing started")

	e.start(t, map[string]any{"rf_api_token": e.acct.Token, "campaign_id": c.ID})
	status, body := e.browser.Do(http.MethodPost, path, map[string]any{"campaign_id": c.ID})
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, string(body), "is running")

	// Another workspace's admin cannot see or start it.
	other := e.Install(2002, 602)
	status, _ = other.Do(http.MethodGet, path, nil)
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = other.Do(http.MethodPost, path, map[string]any{"rf_api_token": e.acct.Token})
	assert.Equal(t, http.StatusNotFound, status)
}

// TestTokenRotatedDuringBackfill: the customer generates a new token in
// Referral Factory while a backfill runs; the job fails and says so, and
// the token stays sealed in Redis.
func TestTokenRotatedDuringBackfill(t *testing.T) {
	e := newEnv(t, envOptions{})
	c, _ := e.campaign(t, 10, 99)
	e.start(t, map[string]any{"rf_api_token": e.acct.Token, "campaign_id": c.ID})
	_, err := e.rf.RotateToken(e.acct.ID)
	require.NoError(t, err)
	e.runJobs(t)
	st := e.status(t)
	assert.Equal(t, backfill.Failed, st.Status)
	assert.Contains(t, st.Error, "Referral Factory refused the API token (401")
	assert.Contains(t, st.Error, "start again with the current token")
	assert.True(t, st.HasToken)

	keys, err := e.Redis.Keys(t.Context(), "*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		v, _ := e.Redis.Dump(t.Context(), k).Result()
		assert.False(t, strings.Contains(k+v, e.acct.Token), "the API token is in Redis in clear under %s", k)
	}

	e.browser.JSON(http.MethodDelete, "/api/v1/sources/"+e.src.ID+"/backfill/token", nil, http.StatusNoContent, nil)
	assert.False(t, e.status(t).HasToken)
}

// TestRateLimitAndBlockHonoured: refhub's budget set above what the API
// allows (8 calls a minute against 5): each 429's Retry-After pauses every
// call until the window ends, so each window sees one refused call; the
// fourth such window blocks the IP, and the job waits the block out, says
// so, and then finishes.
func TestRateLimitAndBlockHonoured(t *testing.T) {
	e := newEnv(t, envOptions{rf: rftest.Options{RateLimit: 5, BlockFor: time.Hour}, budget: 8})
	c, users := e.campaign(t, 65, 99) // 6,500 users: 26 pages, more than four windows' worth
	e.start(t, map[string]any{"rf_api_token": e.acct.Token, "campaign_id": c.ID})
	var waits []string
	took := e.runJobsWatching(t, func(st backfill.Status) { waits = append(waits, st.WaitingOn) })
	e.deliverAll(t)

	st := e.status(t)
	assert.Equal(t, backfill.Done, st.Status, st.Error)
	assert.Len(t, e.Sim.Contacts(1001), len(users))
	var refused []time.Time
	var kinds []string
	for _, r := range e.rf.Requests() {
		if r.RateLimited || r.Blocked {
			refused = append(refused, r.Time)
			kinds = append(kinds, map[bool]string{true: "block", false: "429"}[r.Blocked])
		}
	}
	require.NotEmpty(t, refused)
	for i := 1; i < len(refused); i++ {
		assert.GreaterOrEqual(t, refused[i].Sub(refused[i-1]), time.Minute, "a 429 pauses every call until its window ends")
	}
	require.GreaterOrEqual(t, len(kinds), 4)
	assert.Equal(t, []string{"429", "429", "429", "block"}, kinds[:4], "three abused windows, then the block")
	assert.Contains(t, strings.Join(waits, "\n"), "blocked this server's IP address")
	assert.Contains(t, strings.Join(waits, "\n"), "429")
	assert.GreaterOrEqual(t, took, time.Hour, "the block was waited out")
}
