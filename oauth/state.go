// Package oauth runs the HubSpot install flow (install redirect with a signed
// state bound to the browser, callback, code exchange, introspection), keeps
// each portal's tokens encrypted in Redis (Vault), and hands out access
// tokens, refreshing them ahead of expiry once per portal across goroutines
// and refhub processes (Tokens).
package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"
)

// StateTTL is how long an install may take from redirect to callback.
const StateTTL = 10 * time.Minute

// ErrState means the callback's state is missing, forged, expired, already
// used or was issued to another browser.
var ErrState = errors.New("the install link is invalid or has expired: start the install again")

// DeriveKey derives a purpose-specific key from a root secret, so the
// session secret signs states and sessions with different keys.
func DeriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("refhub/" + purpose))
	return m.Sum(nil)
}

type stateClaims struct {
	NonceHash string `json:"nh"`
	ReturnTo  string `json:"rt,omitempty"`
	jwt.RegisteredClaims
}

// States issues and checks OAuth state values: HS256 JWTs that expire within
// StateTTL, carry the hash of a nonce kept in a cookie of the browser that
// started the install, and can be used once.
type States struct {
	key []byte
	rdb redis.UniversalClient
	now func() time.Time
}

// NewStates returns a state issuer keyed by key.
func NewStates(key []byte, rdb redis.UniversalClient, now func() time.Time) *States {
	if now == nil {
		now = time.Now
	}
	return &States{key: key, rdb: rdb, now: now}
}

// Issue returns a fresh nonce (for the browser's cookie) and the state
// bound to it.
func (s *States) Issue(returnTo string) (nonce, state string, err error) {
	nonce = randomString(32)
	now := s.now()
	claims := stateClaims{
		NonceHash: hashNonce(nonce),
		ReturnTo:  returnTo,
		RegisteredClaims: jwt.RegisteredClaims{
			ID:        randomString(16),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(StateTTL)),
			Issuer:    "refhub",
			Audience:  jwt.ClaimStrings{"refhub-oauth-state"},
		},
	}
	state, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.key)
	return nonce, state, err
}

// Verify checks a state against the nonce from the browser's cookie and
// consumes it. It returns the return-to path the install started with.
func (s *States) Verify(ctx context.Context, state, nonce string) (string, error) {
	var claims stateClaims
	_, err := jwt.ParseWithClaims(state, &claims, func(*jwt.Token) (any, error) { return s.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(s.now), jwt.WithExpirationRequired(),
		jwt.WithIssuer("refhub"), jwt.WithAudience("refhub-oauth-state"))
	if err != nil {
		return "", fmt.Errorf("%w (%v)", ErrState, err)
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(hashNonce(nonce)), []byte(claims.NonceHash)) != 1 {
		return "", fmt.Errorf("%w (it was started in another browser, or cookies are blocked)", ErrState)
	}
	ttl := claims.ExpiresAt.Sub(s.now()) + time.Minute
	fresh, err := s.rdb.SetNX(ctx, "oauthstate:"+claims.ID, 1, ttl).Result()
	if err != nil {
		return "", fmt.Errorf("check state: %w", err)
	}
	if !fresh {
		return "", fmt.Errorf("%w (it was already used)", ErrState)
	}
	return claims.ReturnTo, nil
}

func hashNonce(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return hex.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
