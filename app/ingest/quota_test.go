package ingest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/clocktest"
)

// TestBurstAtDefaultSettingsIsAccepted: a campaign launch — 5,000 signups
// at one source within seconds — is accepted in full with the default
// configuration: Referral Factory does not retry, so every refusal would
// be a lost signup.
func TestBurstAtDefaultSettingsIsAccepted(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	require.Zero(t, env.Config.WebhookRate, "the default has no per-source rate")
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Launch")
	start := time.Now()
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("burst", 5000, ""), 32) // fails unless every one is 202
	t.Logf("5,000 signups accepted in %s", time.Since(start).Round(time.Millisecond))
	depth, err := env.App.Queue().Depth(context.Background(), 1001)
	require.NoError(t, err)
	assert.Equal(t, int64(5000), depth)
}

// TestBacklogQuota: a source that holds as many signups as its quota is
// refused with 429, Retry-After and a message naming the limit and the way
// out; the refusal is in its activity and on its pages; the byte quota and
// the workspace quota work the same way; once the backlog shrinks,
// signups are accepted again.
func TestBacklogQuota(t *testing.T) {
	clock := clocktest.New(time.Now())
	env := apptest.Start(t, apptest.Options{AppOpts: app.Options{Clock: clock}, Configure: func(c *app.Config) {
		c.Limits.SourceBacklog, c.Limits.WorkspaceBacklog, c.Limits.SourceBacklogBytes = 5, 8, 1<<20
	}})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	other := b.CreateSource(1001, "Other")
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("q", 5, ""), 1)

	clock.Advance(2 * time.Second) // past the reading the last signups were checked with
	req, _ := http.NewRequest(http.MethodPost, src.WebhookURL, strings.NewReader(`{"email":"late@example.com"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body := apptest.ReadAll(resp)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "60", resp.Header.Get("Retry-After"))
	assert.Contains(t, body, "this source holds 5 signups")
	assert.Contains(t, body, "REFHUB_SOURCE_BACKLOG = 5")
	assert.Contains(t, body, "rotate it")

	act := b.Activity(src.ID, "?status=rejected")
	require.Len(t, act, 1)
	assert.Contains(t, act[0].Reason, "Refused with 429")
	_, page := apptest.Get(t, b, env.URL("/app/sources/"+src.ID+"/activity"))
	assert.Contains(t, page, `id="over-quota"`)
	assert.Contains(t, page, "New signups are refused")

	// The workspace quota: the other source may add 3 more, then not.
	apptest.PostMany(t, other.WebhookURL, apptest.Signups("o", 3, ""), 1)
	clock.Advance(2 * time.Second)
	status, out := apptest.Post(t, other.WebhookURL, "application/json", []byte(`{"email":"o9@example.com"}`))
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Contains(t, string(out), "this workspace holds 8 signups")
	var summary struct {
		Summary struct {
			Backlog struct {
				Source    struct{ Events int64 }
				Workspace struct{ Events int64 }
				OverQuota string `json:"over_quota"`
			}
		}
	}
	b.JSON(http.MethodGet, "/api/v1/sources/"+other.ID+"/activity", nil, http.StatusOK, &summary)
	assert.Equal(t, int64(3), summary.Summary.Backlog.Source.Events)
	assert.Equal(t, int64(8), summary.Summary.Backlog.Workspace.Events)
	assert.Contains(t, summary.Summary.Backlog.OverQuota, "REFHUB_WORKSPACE_BACKLOG")

	// Delivered signups leave the backlog: new ones are accepted again.
	env.Drain(context.Background())
	clock.Advance(2 * time.Second)
	status, out = apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"email":"again@example.com"}`))
	assert.Equal(t, http.StatusAccepted, status, string(out))
	_, page = apptest.Get(t, b, env.URL("/app/sources/"+src.ID))
	assert.NotContains(t, page, `id="over-quota"`)
}

// TestBacklogByteQuota: the payload bytes a source holds are bounded as
// well as their number.
func TestBacklogByteQuota(t *testing.T) {
	clock := clocktest.New(time.Now())
	env := apptest.Start(t, apptest.Options{AppOpts: app.Options{Clock: clock}, Configure: func(c *app.Config) {
		c.Limits.SourceBacklogBytes = 20 << 10
	}})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	big := `,"notes":"` + strings.Repeat("n", 12<<10) + `"`
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("big", 2, big), 1)
	clock.Advance(2 * time.Second)
	status, out := apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"email":"small@example.com"}`))
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Contains(t, string(out), "REFHUB_SOURCE_BACKLOG_BYTES")
}

// redisCalls is how many commands of a kind the Redis server has run.
func redisCalls(t *testing.T, env *apptest.Env, cmd string) int64 {
	t.Helper()
	info, err := env.Redis.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":calls="); ok {
			n, _, _ := strings.Cut(rest, ",")
			var v int64
			for _, c := range n {
				v = v*10 + int64(c-'0')
			}
			return v
		}
	}
	return 0
}

// TestUnknownTokensAreLimitedPerAddress: an address sending webhooks with
// tokens Redis does not know gets 404s, then 429 with Retry-After without
// any lookup in Redis; a token just found missing, or one that cannot be
// a token, is answered without a lookup and costs the address nothing;
// sources the replica knows are still accepted from that address; other
// clients (behind a trusted proxy, told apart by X-Forwarded-For) are not
// limited.
func TestUnknownTokensAreLimitedPerAddress(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Configure: func(c *app.Config) { c.TrustedProxies = []string{"127.0.0.1"} }})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	base := env.URL("/hooks/referral-factory/")
	sent := 0
	post := func(token, forwardedFor string) *http.Response {
		sent++
		req, _ := http.NewRequest(http.MethodPost, base+token, strings.NewReader(fmt.Sprintf(`{"email":"a%d@example.com"}`, sent)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", forwardedFor)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		apptest.ReadAll(resp)
		return resp
	}
	unknown := func(i int) string { return strings.Repeat("U", 40) + fmt.Sprintf("%03d", i) } // the shape of a token
	const attacker = "203.0.113.7"
	require.Equal(t, http.StatusAccepted, post(src.WebhookURL[len(base):], attacker).StatusCode)

	gets := redisCalls(t, env, "get")
	for range 50 {
		assert.Equal(t, http.StatusNotFound, post("short", attacker).StatusCode)
		assert.Equal(t, http.StatusNotFound, post(unknown(0), attacker).StatusCode)
	}
	assert.Equal(t, gets+1, redisCalls(t, env, "get"), "one lookup: the same missing token again, or no token at all, is not looked up")

	refused := 0
	for i := 1; i <= 40; i++ {
		switch resp := post(unknown(i), attacker); resp.StatusCode {
		case http.StatusNotFound:
		case http.StatusTooManyRequests:
			refused++
			assert.NotEmpty(t, resp.Header.Get("Retry-After"))
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	assert.Positive(t, refused, "an address spraying tokens is limited")
	gets = redisCalls(t, env, "get")
	assert.Equal(t, http.StatusTooManyRequests, post(unknown(99), attacker).StatusCode)
	assert.Equal(t, gets, redisCalls(t, env, "get"), "refused before any Redis lookup")

	assert.Equal(t, http.StatusAccepted, post(src.WebhookURL[len(base):], attacker).StatusCode, "a known source is not refused")
	assert.Equal(t, http.StatusNotFound, post(unknown(99), "198.51.100.4").StatusCode, "another client is not limited")
	assert.Equal(t, http.StatusNotFound, post(unknown(98), "2001:db8:1::1").StatusCode)

	t.Run("without trusted proxies X-Forwarded-For is ignored", func(t *testing.T) {
		env := apptest.Start(t, apptest.Options{})
		codes := map[int]int{}
		for i := range 40 {
			req, _ := http.NewRequest(http.MethodPost, env.URL("/hooks/referral-factory/"+unknown(i)), strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)) // a new address every time
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			apptest.ReadAll(resp)
			codes[resp.StatusCode]++
		}
		assert.Positive(t, codes[http.StatusTooManyRequests], "a forged header does not make a new client: %v", codes)
	})
}
