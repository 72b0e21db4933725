package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// RefreshMargin is how long before expiry an access token is refreshed.
// HubSpot asks apps to refresh ahead of time rather than wait for a 401.
const RefreshMargin = 5 * time.Minute

// lockTTL bounds how long one refresh may hold a portal's refresh lock.
const lockTTL = 20 * time.Second

// ReconnectError means refhub cannot get a working access token for the
// portal: nothing but a new install helps. Revoked says HubSpot refused the
// portal's tokens (the app was uninstalled, the token revoked, a scope
// missing), which the caller records as the portal's status; otherwise
// refhub holds no token for it (it was disconnected in refhub).
type ReconnectError struct {
	HubID   int64
	Reason  string
	Revoked bool
}

func (e *ReconnectError) Error() string {
	return fmt.Sprintf("portal %d needs to be reconnected: %s", e.HubID, e.Reason)
}

// Refresher is HubSpot's refresh_token grant.
type Refresher interface {
	Refresh(ctx context.Context, refreshToken string) (*hubspot.Token, error)
}

// Tokens keeps every portal's tokens in Redis, sealed with the vault under
// the portal's id, and hands out access tokens. A portal has a grant (a
// refresh token) per HubSpot user who installed refhub in it
// (grants.go); delivery uses one and fails over to the next when HubSpot
// refuses it. A token within RefreshMargin
// of expiry is refreshed; within a process one goroutine per portal does it
// (singleflight), and across processes a Redis lock admits one refresh per
// portal, after which the others read what it stored.
type Tokens struct {
	rdb   redis.UniversalClient
	vault *Vault
	hs    Refresher
	now   func() time.Time

	portals Installers // who installed a portal, for tokens stored before grants were per user

	flight singleflight.Group
	mu     sync.Mutex
	cache  map[int64]cachedToken
}

type cachedToken struct {
	access string
	expiry time.Time
}

// NewTokens returns a token keeper. When HubSpot refuses a portal's refresh
// token, the keeper records it with the tokens and answers a
// *ReconnectError with Revoked set; it is the caller's to record the
// portal's status (it calls nothing back).
func NewTokens(rdb redis.UniversalClient, vault *Vault, hs Refresher, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{rdb: rdb, vault: vault, hs: hs, now: now, cache: map[int64]cachedToken{}}
}

func tokensKey(hubID int64) string { return tenants.PortalKey(hubID, "oauth") }
func grantsKey(hubID int64) string { return tenants.PortalKey(hubID, "grants") }
func lockKey(hubID int64) string   { return tenants.PortalKey(hubID, "oauth:lock") }

// refreshAAD is the sealing context of a refresh token stored before
// grants were kept per user (see migrate).
func refreshAAD(hubID int64) string {
	return "portal:" + strconv.FormatInt(hubID, 10) + ":refresh"
}
func grantAAD(hubID, userID int64) string {
	return "portal:" + strconv.FormatInt(hubID, 10) + ":user:" + strconv.FormatInt(userID, 10) + ":refresh"
}
func accessAAD(hubID int64) string { return "portal:" + strconv.FormatInt(hubID, 10) + ":access" }

// stored is a portal's current access token as read from Redis.
type stored struct {
	access  string
	expiry  time.Time
	revoked string // why HubSpot refused every grant, if it did
	user    int64  // whose grant minted the access token
	fp      string
}

// Save stores tokens of an unnamed user (HubSpot user 0): tests and the
// bench seed a portal with it. An install uses SaveGrant.
func (t *Tokens) Save(ctx context.Context, hubID int64, tok *hubspot.Token) error {
	return t.SaveGrant(ctx, hubID, Grantor{}, tok)
}

// SaveGrant stores the grant an install gave refhub: the installing user's
// refresh token (replacing an earlier one of theirs, working again). Its
// access token becomes the portal's unless delivery uses another user's
// grant that still works (a second admin joining changes nothing that
// works).
func (t *Tokens) SaveGrant(ctx context.Context, hubID int64, who Grantor, tok *hubspot.Token) error {
	s, err := t.load(ctx, hubID)
	if err != nil {
		return err
	}
	grants, err := t.grants(ctx, hubID)
	if err != nil {
		return err
	}
	cur, working := pick(grants, s.user)
	keep := working && s.revoked == "" && cur.UserID == s.user && s.user != who.UserID
	g := grantRecord{UserID: who.UserID, Email: who.Email, SavedAt: t.now().UTC()}
	if err := t.putGrant(ctx, hubID, &g, tok.RefreshToken); err != nil {
		return err
	}
	if keep {
		return nil
	}
	return t.saveAccess(ctx, hubID, who.UserID, tok)
}

// saveAccess stores an access token minted by user's grant as the portal's.
func (t *Tokens) saveAccess(ctx context.Context, hubID, user int64, tok *hubspot.Token) error {
	access, err := t.vault.SealString(tok.AccessToken, accessAAD(hubID))
	if err != nil {
		return err
	}
	expiry := tok.Expiry
	if tok.ExpiresIn > 0 {
		// Count the stated lifetime on the clock that judges freshness, not
		// on the HTTP client's.
		expiry = t.now().Add(tok.ExpiresIn)
	}
	err = t.rdb.HSet(ctx, tokensKey(hubID), map[string]any{
		"access": access, "expiry": expiry.UnixMilli(), "fp": fingerprint(tok.AccessToken),
		"key": t.vault.PrimaryKeyID(), "revoked": "", "user": user,
	}).Err()
	if err != nil {
		return fmt.Errorf("portal %d: save tokens: %w", hubID, err)
	}
	t.remember(hubID, tok.AccessToken, expiry)
	return nil
}

func (t *Tokens) load(ctx context.Context, hubID int64) (stored, error) {
	vals, err := t.rdb.HMGet(ctx, tokensKey(hubID), "access", "expiry", "revoked", "user", "fp", "refresh").Result()
	if err != nil {
		return stored{}, fmt.Errorf("portal %d: load tokens: %w", hubID, err)
	}
	str := func(i int) string { s, _ := vals[i].(string); return s }
	if str(5) != "" { // stored before grants were per user: move it, then read again
		if err := t.migrate(ctx, hubID); err != nil {
			return stored{}, err
		}
		return t.load(ctx, hubID)
	}
	s := stored{revoked: str(2), fp: str(4)}
	s.user, _ = strconv.ParseInt(str(3), 10, 64)
	if enc := str(0); enc != "" {
		if s.access, err = t.vault.OpenString(enc, accessAAD(hubID)); err != nil {
			return stored{}, fmt.Errorf("portal %d: access token: %w", hubID, err)
		}
	}
	if ms, err := strconv.ParseInt(str(1), 10, 64); err == nil {
		s.expiry = time.UnixMilli(ms)
	}
	return s, nil
}

func (t *Tokens) fresh(expiry time.Time) bool { return t.now().Add(RefreshMargin).Before(expiry) }

func (t *Tokens) remember(hubID int64, access string, expiry time.Time) {
	t.mu.Lock()
	t.cache[hubID] = cachedToken{access: access, expiry: expiry}
	t.mu.Unlock()
}

// Forget drops a portal's cached access token in this process.
func (t *Tokens) Forget(hubID int64) {
	t.mu.Lock()
	delete(t.cache, hubID)
	t.mu.Unlock()
}

// AccessToken returns a portal's access token, valid for at least
// RefreshMargin, refreshing it first if needed.
func (t *Tokens) AccessToken(ctx context.Context, hubID int64) (string, error) {
	t.mu.Lock()
	c, ok := t.cache[hubID]
	t.mu.Unlock()
	if ok && t.fresh(c.expiry) {
		return c.access, nil
	}
	v, err, _ := t.flight.Do(strconv.FormatInt(hubID, 10), func() (any, error) {
		return t.obtain(context.WithoutCancel(ctx), hubID)
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// Func returns AccessToken for one portal, as the HubSpot client takes it.
func (t *Tokens) Func(hubID int64) hubspot.TokenFunc {
	return func(ctx context.Context) (string, error) { return t.AccessToken(ctx, hubID) }
}

// obtain reads the shared token, or refreshes it under the portal's lock.
func (t *Tokens) obtain(ctx context.Context, hubID int64) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*lockTTL)
	defer cancel()
	for {
		if _, access, err := t.stored(ctx, hubID); access != "" || err != nil {
			return access, err
		}
		owner := randomString(12)
		got, err := t.rdb.SetNX(ctx, lockKey(hubID), owner, lockTTL).Result()
		if err != nil {
			return "", fmt.Errorf("portal %d: refresh lock: %w", hubID, err)
		}
		if got {
			access, err := t.refreshLocked(ctx, hubID)
			t.unlock(hubID, owner)
			return access, err
		}
		// Another process is refreshing: wait for it, then read its result.
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("portal %d: waiting for a token refresh: %w", hubID, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// stored reads a portal's tokens and returns its access token if it is still
// fresh (or an error if HubSpot refused every grant of the portal); an
// empty access token means a refresh is due.
func (t *Tokens) stored(ctx context.Context, hubID int64) (stored, string, error) {
	s, err := t.load(ctx, hubID)
	if err != nil {
		return s, "", err
	}
	if s.revoked != "" {
		return s, "", &ReconnectError{HubID: hubID, Reason: s.revoked, Revoked: true}
	}
	if s.access != "" && t.fresh(s.expiry) {
		t.remember(hubID, s.access, s.expiry)
		return s, s.access, nil
	}
	return s, "", nil
}

// refreshLocked refreshes while holding the lock, re-reading first in case
// another process stored a fresh token between our read and our lock. It
// uses the grant that minted the current token, or the next working one;
// a grant HubSpot refuses is recorded as failed and the next is tried.
// When none is left, the portal's tokens are marked revoked.
func (t *Tokens) refreshLocked(ctx context.Context, hubID int64) (string, error) {
	for range maxGrants + 1 {
		s, access, err := t.stored(ctx, hubID)
		if access != "" || err != nil {
			return access, err
		}
		grants, err := t.grants(ctx, hubID)
		if err != nil {
			return "", err
		}
		if len(grants) == 0 {
			return "", &ReconnectError{HubID: hubID, Reason: "refhub holds no token for this portal: install the app again"}
		}
		g, ok := pick(grants, s.user)
		if !ok {
			reason := everyGrantFailed(grants)
			t.MarkRevoked(ctx, hubID, reason)
			return "", &ReconnectError{HubID: hubID, Reason: reason, Revoked: true}
		}
		refresh, err := t.vault.OpenString(g.Refresh, grantAAD(hubID, g.UserID))
		if err != nil {
			return "", fmt.Errorf("portal %d: refresh token of user %d: %w", hubID, g.UserID, err)
		}
		tok, err := t.hs.Refresh(ctx, refresh)
		if err != nil {
			if hubspot.IsInvalidGrant(err) {
				if err := t.failGrant(ctx, hubID, g.UserID, "HubSpot refused the refresh token (the user was deactivated, lost access to the portal, or revoked refhub's access)"); err != nil {
					return "", err
				}
				continue
			}
			return "", fmt.Errorf("portal %d: %w", hubID, err)
		}
		if tok.RefreshToken != "" && tok.RefreshToken != refresh {
			if err := t.putGrant(ctx, hubID, &g, tok.RefreshToken); err != nil {
				return "", err
			}
		}
		if err := t.saveAccess(ctx, hubID, g.UserID, tok); err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}
	return "", fmt.Errorf("portal %d: grants changed during the refresh: try again", hubID)
}

var invalidateScript = redis.NewScript(`if redis.call("HGET", KEYS[1], "fp") == ARGV[1] then redis.call("HSET", KEYS[1], "access", "", "expiry", 0) return 1 end return 0`)

// Invalidate drops a portal's access token everywhere if it is still the one
// that failed, so the next caller refreshes it (HubSpot answered 401 to a
// token refhub thought valid). A token another process stored meanwhile is
// kept.
func (t *Tokens) Invalidate(ctx context.Context, hubID int64, failed string) error {
	t.mu.Lock()
	if c, ok := t.cache[hubID]; ok && c.access == failed {
		delete(t.cache, hubID)
	}
	t.mu.Unlock()
	return invalidateScript.Run(ctx, t.rdb, []string{tokensKey(hubID)}, fingerprint(failed)).Err()
}

// fingerprint identifies an access token without revealing it.
func fingerprint(token string) string {
	sum := sha256.Sum256([]byte("refhub-token-fp:" + token))
	return hex.EncodeToString(sum[:8])
}

// MarkRevoked records that HubSpot accepts no grant of the portal any more:
// from then on AccessToken answers a *ReconnectError without asking
// HubSpot, until an install saves a new grant.
func (t *Tokens) MarkRevoked(ctx context.Context, hubID int64, reason string) {
	t.Forget(hubID)
	t.rdb.HSet(ctx, tokensKey(hubID), "revoked", reason, "access", "")
}

var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

func (t *Tokens) unlock(hubID int64, owner string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	unlockScript.Run(ctx, t.rdb, []string{lockKey(hubID)}, owner)
}

// RefreshToken returns the refresh token of the grant delivery uses.
func (t *Tokens) RefreshToken(ctx context.Context, hubID int64) (string, error) {
	s, err := t.load(ctx, hubID)
	if err != nil {
		return "", err
	}
	grants, err := t.grants(ctx, hubID)
	if err != nil {
		return "", err
	}
	g, ok := pick(grants, s.user)
	if !ok {
		return "", &ReconnectError{HubID: hubID, Reason: "refhub holds no working token for this portal: install the app again"}
	}
	return t.vault.OpenString(g.Refresh, grantAAD(hubID, g.UserID))
}

// Delete removes a portal's tokens and grants.
func (t *Tokens) Delete(ctx context.Context, hubID int64) error {
	t.Forget(hubID)
	return t.rdb.Del(ctx, tokensKey(hubID), grantsKey(hubID)).Err()
}

// ErrNoTokens reports whether err means refhub holds no usable token.
func ErrNoTokens(err error) bool {
	var re *ReconnectError
	return errors.As(err, &re)
}
