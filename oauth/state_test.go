package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"github.com/refhub/refhub/internal/clocktest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/oauth"
)

var stateKey = oauth.DeriveKey([]byte("a session secret of at least 32 characters"), "oauth-state")

func newStates(t *testing.T) (*oauth.States, *clocktest.Clock) {
	t.Helper()
	clock := newClock()
	return oauth.NewStates(stateKey, redistest.Client(t), clock.Now), clock
}

func nonceHash(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return hex.EncodeToString(sum[:])
}

// stateClaims are valid claims for nonce at now, as Issue makes them.
func stateClaims(nonce string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"nh": nonceHash(nonce), "rt": "/app/",
		"jti": "id-" + nonce, "iat": now.Unix(), "exp": now.Add(oauth.StateTTL).Unix(),
		"iss": "refhub", "aud": []string{"refhub-oauth-state"},
	}
}

func sign(t *testing.T, method jwt.SigningMethod, claims jwt.MapClaims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return s
}

func TestStatesRoundTrip(t *testing.T) {
	states, _ := newStates(t)
	nonce, state, err := states.Issue("/app/sources/src_1")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(nonce), 40, "the nonce carries 256 bits")
	assert.NotContains(t, state, nonce, "the state carries only the nonce's hash")

	returnTo, err := states.Verify(context.Background(), state, nonce)
	require.NoError(t, err)
	assert.Equal(t, "/app/sources/src_1", returnTo)

	n2, s2, err := states.Issue("")
	require.NoError(t, err)
	assert.NotEqual(t, nonce, n2)
	assert.NotEqual(t, state, s2)
}

func TestStatesExpiry(t *testing.T) {
	tests := []struct {
		name  string
		after time.Duration
		ok    bool
	}{
		{name: "just issued", after: 0, ok: true},
		{name: "9m59s later", after: 9*time.Minute + 59*time.Second, ok: true},
		{name: "10m1s later", after: 10*time.Minute + time.Second, ok: false},
		{name: "a day later", after: 24 * time.Hour, ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			states, clock := newStates(t)
			nonce, state, err := states.Issue("/app/")
			require.NoError(t, err)
			clock.Advance(tc.after)
			_, err = states.Verify(context.Background(), state, nonce)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, oauth.ErrState)
		})
	}
}

func TestStatesRefused(t *testing.T) {
	states, clock := newStates(t)
	now := clock.Now()
	nonce, state, err := states.Issue("/app/")
	require.NoError(t, err)

	without := func(claim string) jwt.MapClaims {
		c := stateClaims("n1", now)
		delete(c, claim)
		return c
	}
	with := func(claim string, v any) jwt.MapClaims {
		c := stateClaims("n1", now)
		c[claim] = v
		return c
	}
	head, payload, _ := strings.Cut(state, ".")
	payload, _, _ = strings.Cut(payload, ".")

	tests := []struct {
		name, state, nonce string
		why                string
	}{
		{name: "wrong nonce", state: state, nonce: "another-browser", why: "another browser"},
		{name: "no nonce cookie", state: state, nonce: "", why: "another browser"},
		{name: "no state", state: "", nonce: nonce},
		{name: "garbage state", state: "not-a-jwt", nonce: nonce},
		{name: "forged signature", nonce: "n1",
			state: sign(t, jwt.SigningMethodHS256, stateClaims("n1", now), []byte("another key, guessed by an attacker"))},
		{name: "signature stripped", state: head + "." + payload + ".", nonce: nonce},
		{name: "alg none", nonce: "n1",
			state: sign(t, jwt.SigningMethodNone, stateClaims("n1", now), jwt.UnsafeAllowNoneSignatureType)},
		{name: "HS512 with the right key", nonce: "n1",
			state: sign(t, jwt.SigningMethodHS512, stateClaims("n1", now), stateKey)},
		{name: "no expiry", nonce: "n1", state: sign(t, jwt.SigningMethodHS256, without("exp"), stateKey)},
		{name: "wrong issuer", nonce: "n1", state: sign(t, jwt.SigningMethodHS256, with("iss", "evil"), stateKey)},
		{name: "wrong audience", nonce: "n1", state: sign(t, jwt.SigningMethodHS256, with("aud", []string{"session"}), stateKey)},
		{name: "expired", nonce: "n1", state: sign(t, jwt.SigningMethodHS256, with("exp", now.Add(-time.Second).Unix()), stateKey)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := states.Verify(context.Background(), tc.state, tc.nonce)
			require.ErrorIs(t, err, oauth.ErrState)
			if tc.why != "" {
				assert.Contains(t, err.Error(), tc.why)
			}
		})
	}

	t.Run("control: a well-formed hand-made state passes", func(t *testing.T) {
		_, err := states.Verify(context.Background(), sign(t, jwt.SigningMethodHS256, stateClaims("n2", now), stateKey), "n2")
		assert.NoError(t, err)
	})

	t.Run("the real state still works after the failed attempts", func(t *testing.T) {
		_, err := states.Verify(context.Background(), state, nonce)
		assert.NoError(t, err)
	})
}

func TestStatesSingleUse(t *testing.T) {
	clock := newClock()
	rdb := redistest.Client(t)
	states := oauth.NewStates(stateKey, rdb, clock.Now)
	nonce, state, err := states.Issue("/app/")
	require.NoError(t, err)

	_, err = states.Verify(context.Background(), state, nonce)
	require.NoError(t, err)
	_, err = states.Verify(context.Background(), state, nonce)
	require.ErrorIs(t, err, oauth.ErrState)
	assert.Contains(t, err.Error(), "already used")

	other := oauth.NewStates(stateKey, rdb, clock.Now)
	_, err = other.Verify(context.Background(), state, nonce)
	assert.ErrorIs(t, err, oauth.ErrState, "another replica refuses the replay too")

	keys, err := rdb.Keys(context.Background(), "oauthstate:*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	ttl, err := rdb.TTL(context.Background(), keys[0]).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, time.Duration(0), "the used marker expires")
	assert.LessOrEqual(t, ttl, oauth.StateTTL+time.Minute)
}

func TestDeriveKey(t *testing.T) {
	root := []byte("root secret")
	a := oauth.DeriveKey(root, "oauth-state")
	assert.Len(t, a, 32)
	assert.Equal(t, a, oauth.DeriveKey(root, "oauth-state"))
	assert.NotEqual(t, a, oauth.DeriveKey(root, "session"))
	assert.NotEqual(t, a, oauth.DeriveKey([]byte("other root"), "oauth-state"))
}
