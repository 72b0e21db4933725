package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

func TestAccessTokenWithoutRefresh(t *testing.T) {
	e := newTokenEnv(t)
	tk := e.tokens()
	access, _ := e.install(tk)

	got, err := tk.AccessToken(context.Background(), hubAcme)
	require.NoError(t, err)
	assert.Equal(t, access, got)

	other, err := e.tokens().AccessToken(context.Background(), hubAcme)
	require.NoError(t, err, "another process reads the stored token")
	assert.Equal(t, access, other)

	viaFunc, err := tk.Func(hubAcme)(context.Background())
	require.NoError(t, err)
	assert.Equal(t, access, viaFunc)

	assert.Zero(t, e.tokenRequests(), "a fresh token is not refreshed")
	assert.NoError(t, e.crmCall(got))
}

func TestSaveWithoutStatedLifetime(t *testing.T) {
	e := newTokenEnv(t)
	tk := e.tokens()
	access, refresh := e.sim.IssueTokens(hubAcme, userAdmin, nil)
	require.NoError(t, tk.Save(context.Background(), hubAcme, &hubspot.Token{
		AccessToken: access, RefreshToken: refresh, Expiry: e.clock.Now().Add(10 * time.Minute)}))

	e.clock.Advance(4*time.Minute + 59*time.Second)
	got, err := e.tokens().AccessToken(context.Background(), hubAcme)
	require.NoError(t, err)
	assert.Equal(t, access, got, "Expiry is used when HubSpot stated no lifetime")
	assert.Zero(t, e.refreshGrants())

	e.clock.Advance(time.Second)
	got, err = tk.AccessToken(context.Background(), hubAcme)
	require.NoError(t, err)
	assert.NotEqual(t, access, got)
	assert.Equal(t, 1, e.refreshGrants())
}

func TestRefreshAheadOfExpiry(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		refresh bool
	}{
		{name: "5m01s left", advance: 24*time.Minute + 59*time.Second, refresh: false},
		{name: "exactly 5m left", advance: 25 * time.Minute, refresh: true},
		{name: "4m left", advance: 26 * time.Minute, refresh: true},
		{name: "1s left", advance: 30*time.Minute - time.Second, refresh: true},
		{name: "expired an hour ago", advance: 90 * time.Minute, refresh: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTokenEnv(t)
			tk := e.tokens()
			old, _ := e.install(tk)
			e.clock.Advance(tc.advance)

			got, err := tk.AccessToken(context.Background(), hubAcme)
			require.NoError(t, err)
			if !tc.refresh {
				assert.Equal(t, old, got)
				assert.Zero(t, e.refreshGrants())
				return
			}
			assert.NotEqual(t, old, got)
			assert.Equal(t, 1, e.refreshGrants())
			assert.NoError(t, e.crmCall(got), "the refreshed token works")
			assert.Zero(t, e.rdb.Exists(context.Background(), "{p:101}:oauth:lock").Val(),
				"the refresh lock is released at once, not left to expire")

			// The new token lives 30 minutes from now by the same clock.
			e.clock.Advance(24*time.Minute + 59*time.Second)
			again, err := tk.AccessToken(context.Background(), hubAcme)
			require.NoError(t, err)
			assert.Equal(t, got, again)
			fromRedis, err := e.tokens().AccessToken(context.Background(), hubAcme)
			require.NoError(t, err)
			assert.Equal(t, got, fromRedis)
			assert.Equal(t, 1, e.refreshGrants(), "no second refresh while the new token is fresh")
		})
	}
}

func TestRotatedRefreshTokenIsStored(t *testing.T) {
	e := newTokenEnv(t, func(o *hubspottest.Options) { o.RotateRefreshTokens = true })
	tk := e.tokens()
	access0, refresh0 := e.install(tk)
	ctx := context.Background()

	e.clock.Advance(26 * time.Minute)
	access1, err := tk.AccessToken(ctx, hubAcme)
	require.NoError(t, err)
	refresh1, err := tk.RefreshToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.NotEqual(t, refresh0, refresh1, "the refresh token HubSpot returned is stored")

	e.clock.Advance(26 * time.Minute)
	access2, err := e.tokens().AccessToken(ctx, hubAcme)
	require.NoError(t, err, "the second refresh uses the stored, rotated refresh token")
	assert.NotEqual(t, access1, access2)
	assert.Equal(t, 2, e.refreshGrants())
	refresh2, err := tk.RefreshToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.NotEqual(t, refresh1, refresh2)
	assert.NoError(t, e.crmCall(access2))

	for _, secret := range []string{access0, refresh0, access1, refresh1, access2, refresh2} {
		e.assertNotInRedis(secret)
	}
}

func TestUninstalledPortalNeedsReconnect(t *testing.T) {
	e := newTokenEnv(t)
	tk := e.tokens()
	e.install(tk)
	ctx := context.Background()
	e.sim.Uninstall(hubAcme)
	e.clock.Advance(26 * time.Minute)

	_, err := tk.AccessToken(ctx, hubAcme)
	var re *oauth.ReconnectError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, hubAcme, re.HubID)
	assert.Contains(t, re.Reason, "install refhub again")
	assert.True(t, oauth.ErrNoTokens(err))
	assert.True(t, re.Revoked, "the caller is told HubSpot refused the tokens, to record the portal's status")
	assert.Equal(t, re.Reason, e.revokedReason(), "the refusal is recorded with the tokens")
	assert.Equal(t, 1, e.tokenRequests())

	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := tk
			if i%2 == 1 {
				tk = e.tokens()
			}
			_, errs[i] = tk.AccessToken(ctx, hubAcme)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if assert.ErrorAs(t, err, &re) {
			assert.True(t, re.Revoked, "every caller learns the portal must be reconnected")
		}
	}
	assert.Equal(t, 1, e.tokenRequests(), "HubSpot is not asked again once it refused the refresh token")

	t.Run("a new install reconnects", func(t *testing.T) {
		access, _ := e.install(tk)
		got, err := tk.AccessToken(ctx, hubAcme)
		require.NoError(t, err)
		assert.Equal(t, access, got)
		got, err = e.tokens().AccessToken(ctx, hubAcme)
		require.NoError(t, err)
		assert.Equal(t, access, got)
	})
}

func TestMarkRevoked(t *testing.T) {
	e := newTokenEnv(t)
	tk := e.tokens()
	e.install(tk)
	tk.MarkRevoked(context.Background(), hubAcme, "HubSpot answered 401 to a fresh token")
	assert.Equal(t, "HubSpot answered 401 to a fresh token", e.revokedReason())

	_, err := tk.AccessToken(context.Background(), hubAcme)
	var re *oauth.ReconnectError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "HubSpot answered 401 to a fresh token", re.Reason)
	assert.True(t, re.Revoked)
	assert.Zero(t, e.tokenRequests())
}

func TestNoTokens(t *testing.T) {
	e := newTokenEnv(t)
	tk := e.tokens()
	_, err := tk.AccessToken(context.Background(), 999)
	var re *oauth.ReconnectError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, int64(999), re.HubID)
	assert.Contains(t, re.Reason, "holds no token")

	e.install(tk)
	require.NoError(t, tk.Delete(context.Background(), hubAcme))
	_, err = tk.AccessToken(context.Background(), hubAcme)
	assert.ErrorAs(t, err, &re, "Delete drops the cached token too")
	assert.False(t, oauth.ErrNoTokens(errors.New("other")))
}

func TestInvalidate(t *testing.T) {
	e := newTokenEnv(t)
	tk := e.tokens()
	access, _ := e.install(tk)
	ctx := context.Background()

	require.NoError(t, tk.Invalidate(ctx, hubAcme, "a token from before"))
	got, err := tk.AccessToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.Equal(t, access, got, "invalidating another token keeps the current one")
	assert.Zero(t, e.refreshGrants())

	require.NoError(t, tk.Invalidate(ctx, hubAcme, access))
	fresh, err := e.tokens().AccessToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.NotEqual(t, access, fresh, "every process refreshes after an invalidation")
	assert.Equal(t, 1, e.refreshGrants())
	got, err = tk.AccessToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.Equal(t, fresh, got)
}

func TestTokensSealedAtRest(t *testing.T) {
	e := newTokenEnv(t)
	tk := e.tokens()
	access, refresh := e.install(tk)
	ctx := context.Background()
	e.assertNotInRedis(refresh)
	e.assertNotInRedis(access)

	rec, err := e.rdb.HGetAll(ctx, tenants.PortalKey(hubAcme, "oauth")).Result()
	require.NoError(t, err)
	assert.Equal(t, "k1", rec["key"])
	assert.Equal(t, "k1", oauth.KeyID(rec["access"]))
	assert.NotContains(t, rec, "refresh", "refresh tokens are kept per user, with the grants")
	grants, err := e.rdb.HGetAll(ctx, tenants.PortalKey(hubAcme, "grants")).Result()
	require.NoError(t, err)
	require.Len(t, grants, 1)
	var g struct{ Refresh string }
	require.NoError(t, json.Unmarshal([]byte(grants["0"]), &g))
	assert.Equal(t, "k1", oauth.KeyID(g.Refresh))

	// A record copied to another portal does not open there.
	fields := make([]any, 0, 2*len(rec))
	for k, v := range rec {
		fields = append(fields, k, v)
	}
	require.NoError(t, e.rdb.HSet(ctx, tenants.PortalKey(202, "oauth"), fields...).Err())
	_, err = e.tokens().AccessToken(ctx, 202)
	assert.ErrorIs(t, err, oauth.ErrDecrypt)
}

// flakyTokenEndpoint answers the token endpoint with 502 while failing is
// set, else with a fresh access token and no refresh token.
func flakyTokenEndpoint(t *testing.T, failing *atomic.Bool, grants *atomic.Int32) *hubspot.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if failing.Load() {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`{"status":"error","message":"bad gateway"}`))
			return
		}
		grants.Add(1)
		_, _ = w.Write([]byte(`{"token_type":"bearer","access_token":"fresh-access","expires_in":1800,"token_use":"access_token"}`))
	}))
	t.Cleanup(srv.Close)
	return hubspot.New(hubspot.Config{APIBase: srv.URL, ClientID: "cid", ClientSecret: "secret"})
}

func TestTransientRefreshFailure(t *testing.T) {
	e := newTokenEnv(t)
	var failing atomic.Bool
	var grants atomic.Int32
	failing.Store(true)
	client := flakyTokenEndpoint(t, &failing, &grants)
	tk := oauth.NewTokens(e.rdb, e.vault, client, e.clock.Now)
	ctx := context.Background()
	require.NoError(t, tk.Save(ctx, hubAcme, &hubspot.Token{AccessToken: "old-access", RefreshToken: "na1-keep", ExpiresIn: 30 * time.Minute}))
	e.clock.Advance(26 * time.Minute)

	_, err := tk.AccessToken(ctx, hubAcme)
	require.Error(t, err)
	assert.False(t, oauth.ErrNoTokens(err), "a 502 is not a reason to reconnect: %v", err)
	var oe *hubspot.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.True(t, oe.Temporary())
	assert.Empty(t, e.revokedReason(), "a failed refresh is not recorded as a refusal")

	failing.Store(false)
	got, err := tk.AccessToken(ctx, hubAcme)
	require.NoError(t, err, "the lock was released after the failed attempt")
	assert.Equal(t, "fresh-access", got)
	assert.EqualValues(t, 1, grants.Load())
	rt, err := tk.RefreshToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.Equal(t, "na1-keep", rt, "without a new refresh token the old one is kept")
}

// TestOneRefreshAcrossProcesses is the contract of Tokens: two refhub
// processes (separate caches and singleflight groups, one Redis, one
// HubSpot) with 50 callers each, asking for a token inside the refresh
// margin, cause exactly one refresh, and nobody calls HubSpot with an
// expired token.
func TestOneRefreshAcrossProcesses(t *testing.T) {
	e := newTokenEnv(t)
	e.sim.SetRateLimit(1000, 10*time.Second)
	old, _ := e.install(e.tokens())
	e.clock.Advance(26 * time.Minute) // 4 minutes left: inside the 5-minute margin

	procs := []*oauth.Tokens{e.tokens(), e.tokens()}
	const perProcess = 50
	ctx := context.Background()
	results := make([]string, len(procs)*perProcess)
	errs := make([]error, len(results))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		proc := procs[i%len(procs)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = proc.AccessToken(ctx, hubAcme)
		}()
	}
	close(start)
	wg.Wait()

	assert.Equal(t, 1, e.refreshGrants(), "exactly one refresh grant for 100 callers in 2 processes")
	assert.Equal(t, 1, e.tokenRequests())
	for i := range results {
		require.NoError(t, errs[i], "caller %d", i)
		assert.Equal(t, results[0], results[i], "caller %d got another token", i)
	}
	assert.NotEqual(t, old, results[0], "the callers got the fresh token")

	for i, tok := range results {
		assert.NoError(t, e.crmCall(tok), "CRM call %d", i)
	}
	expired := e.sim.Count(func(r hubspottest.Request) bool { return r.Category == "EXPIRED_AUTHENTICATION" })
	assert.Zero(t, expired, "no call was made with an expired token")
	unauthorized := e.sim.Count(func(r hubspottest.Request) bool { return r.Status == http.StatusUnauthorized })
	assert.Zero(t, unauthorized)

	for _, proc := range procs {
		got, err := proc.AccessToken(ctx, hubAcme)
		require.NoError(t, err)
		assert.Equal(t, results[0], got)
	}
	assert.Equal(t, 1, e.refreshGrants(), "later calls are served without HubSpot")
}
