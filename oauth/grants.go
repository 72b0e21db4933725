package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/tenants"
)

// A grant is what one HubSpot user's install gave refhub for a portal: a
// refresh token tied to that user. HubSpot stops honouring it when the
// user is deactivated, loses access to the portal or revokes the app, so
// refhub keeps every admin's grant and delivers with whichever works. The
// grants of a portal are one hash, {p:<hub>}:grants, field the user id; a
// refresh token is sealed under the portal and the user.

// maxGrants bounds the grants one refresh tries before giving up: far more
// than a portal's admins.
const maxGrants = 100

// Grantor is the HubSpot user whose install gave a grant.
type Grantor struct {
	UserID int64
	Email  string
}

// grantRecord is one user's grant as stored.
type grantRecord struct {
	UserID   int64     `json:"user_id"`
	Email    string    `json:"email,omitempty"`
	Refresh  string    `json:"refresh"` // sealed with grantAAD
	SavedAt  time.Time `json:"saved_at"`
	FailedAt time.Time `json:"failed_at,omitzero"`
	Reason   string    `json:"reason,omitempty"` // why HubSpot refused it
}

func (g grantRecord) working() bool { return g.FailedAt.IsZero() }

// GrantView is a grant as the owner sees it: whose, whether it works, and
// why not.
type GrantView struct {
	UserID   int64      `json:"user_id"`
	Email    string     `json:"email"`
	Working  bool       `json:"working"`
	InUse    bool       `json:"in_use"` // delivery uses it now
	SavedAt  time.Time  `json:"saved_at"`
	FailedAt *time.Time `json:"failed_at,omitempty"`
	Reason   string     `json:"reason,omitempty"`
}

// Installers says who installed a portal, to name the owner of a token
// stored before grants were kept per user.
type Installers interface {
	Portal(ctx context.Context, hubID int64) (tenants.Portal, error)
}

// UseInstallers lets the keeper name the user of tokens stored before
// grants were per user (the portal's installer); without it they are kept
// as user 0's.
func (t *Tokens) UseInstallers(p Installers) { t.portals = p }

// putGrant seals refresh into g and stores g as its user's grant, working.
func (t *Tokens) putGrant(ctx context.Context, hubID int64, g *grantRecord, refresh string) error {
	sealed, err := t.vault.SealString(refresh, grantAAD(hubID, g.UserID))
	if err != nil {
		return err
	}
	g.Refresh, g.FailedAt, g.Reason = sealed, time.Time{}, ""
	raw, err := json.Marshal(g)
	if err != nil {
		return err
	}
	if err := t.rdb.HSet(ctx, grantsKey(hubID), strconv.FormatInt(g.UserID, 10), raw).Err(); err != nil {
		return fmt.Errorf("portal %d: save grant: %w", hubID, err)
	}
	return nil
}

// grants returns a portal's grants, the most recently given first.
func (t *Tokens) grants(ctx context.Context, hubID int64) ([]grantRecord, error) {
	raw, err := t.rdb.HGetAll(ctx, grantsKey(hubID)).Result()
	if err != nil {
		return nil, fmt.Errorf("portal %d: grants: %w", hubID, err)
	}
	out := make([]grantRecord, 0, len(raw))
	for _, v := range raw {
		var g grantRecord
		if err := json.Unmarshal([]byte(v), &g); err != nil {
			return nil, fmt.Errorf("portal %d: grant: %w", hubID, err)
		}
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].SavedAt.Equal(out[j].SavedAt) {
			return out[i].SavedAt.After(out[j].SavedAt)
		}
		return out[i].UserID < out[j].UserID
	})
	return out, nil
}

// pick returns the grant of user if it works, or else the most recent
// working grant.
func pick(grants []grantRecord, user int64) (grantRecord, bool) {
	for _, g := range grants {
		if g.UserID == user && g.working() {
			return g, true
		}
	}
	for _, g := range grants {
		if g.working() {
			return g, true
		}
	}
	return grantRecord{}, false
}

// everyGrantFailed is the reason a portal needs reconnecting once HubSpot
// refused every grant refhub held.
func everyGrantFailed(grants []grantRecord) string {
	var who []string
	for _, g := range grants {
		who = append(who, grantName(g))
	}
	return "HubSpot refused every grant refhub holds for this portal (" + strings.Join(who, ", ") +
		"): install refhub again in this portal"
}

func grantName(g grantRecord) string {
	if g.Email != "" {
		return g.Email
	}
	if g.UserID != 0 {
		return "user " + strconv.FormatInt(g.UserID, 10)
	}
	return "the installing user"
}

// failGrant records that HubSpot refused user's grant, and why.
func (t *Tokens) failGrant(ctx context.Context, hubID, user int64, reason string) error {
	field := strconv.FormatInt(user, 10)
	raw, err := t.rdb.HGet(ctx, grantsKey(hubID), field).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return err
	}
	var g grantRecord
	if err := json.Unmarshal(raw, &g); err != nil {
		return err
	}
	if !g.working() {
		return nil
	}
	g.FailedAt, g.Reason = t.now().UTC(), reason
	enc, err := json.Marshal(g)
	if err != nil {
		return err
	}
	// Only if the grant is still the one read: a reinstall that stored a
	// new grant of this user meanwhile is kept working.
	return replaceFieldScript.Run(ctx, t.rdb, []string{grantsKey(hubID)}, field, string(raw), string(enc)).Err()
}

// GrantFailure is what Fail learnt: whose grant HubSpot refused, and whose
// delivery uses now (none when no grant works).
type GrantFailure struct {
	Failed, Next Grantor
	FailedOver   bool
}

// Fail records that HubSpot refused the grant that minted access (a 401
// for a freshly refreshed token, or scopes missing) and moves the portal
// to its next working grant. FailedOver is false when none is left: the
// caller then records that the portal needs reconnecting. When the token
// had already been replaced (another worker failed over first), nothing
// is recorded and FailedOver is true: the caller tries again.
func (t *Tokens) Fail(ctx context.Context, hubID int64, access, reason string) (GrantFailure, error) {
	s, err := t.load(ctx, hubID)
	if err != nil {
		return GrantFailure{}, err
	}
	if s.fp != "" && s.fp != fingerprint(access) {
		return GrantFailure{FailedOver: true}, nil
	}
	grants, err := t.grants(ctx, hubID)
	if err != nil {
		return GrantFailure{}, err
	}
	var f GrantFailure
	for _, g := range grants {
		if g.UserID == s.user {
			f.Failed = Grantor{UserID: g.UserID, Email: grantName(g)}
			break
		}
	}
	if err := t.failGrant(ctx, hubID, s.user, reason); err != nil {
		return f, err
	}
	if grants, err = t.grants(ctx, hubID); err != nil {
		return f, err
	}
	next, ok := pick(grants, -1)
	if !ok {
		return f, nil
	}
	t.Forget(hubID)
	if err := t.rdb.HSet(ctx, tokensKey(hubID), "access", "", "expiry", 0, "user", next.UserID).Err(); err != nil {
		return f, err
	}
	f.Next, f.FailedOver = Grantor{UserID: next.UserID, Email: grantName(next)}, true
	return f, nil
}

// Grants lists a portal's grants for the owner: working ones first, the
// one in use marked.
func (t *Tokens) Grants(ctx context.Context, hubID int64) ([]GrantView, error) {
	s, err := t.load(ctx, hubID)
	if err != nil {
		return nil, err
	}
	grants, err := t.grants(ctx, hubID)
	if err != nil {
		return nil, err
	}
	inUse, working := pick(grants, s.user)
	out := make([]GrantView, 0, len(grants))
	for _, g := range grants {
		v := GrantView{UserID: g.UserID, Email: grantName(g), Working: g.working(), SavedAt: g.SavedAt, Reason: g.Reason,
			InUse: working && s.revoked == "" && g.UserID == inUse.UserID}
		if !g.working() {
			at := g.FailedAt
			v.FailedAt = &at
		}
		out = append(out, v)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Working && !out[j].Working })
	return out, nil
}

// HoldsLastGrant reports whether user's grant is the portal's only working
// one (removing it would stop delivery).
func (t *Tokens) HoldsLastGrant(ctx context.Context, hubID, user int64) (bool, error) {
	grants, err := t.grants(ctx, hubID)
	if err != nil {
		return false, err
	}
	mine, others := false, 0
	for _, g := range grants {
		switch {
		case !g.working():
		case g.UserID == user:
			mine = true
		default:
			others++
		}
	}
	return mine && others == 0, nil
}

// RemoveGrant forgets user's grant and returns its refresh token, for the
// caller to revoke at HubSpot ("" when there was none). Delivery moves to
// the next working grant if it used this one.
func (t *Tokens) RemoveGrant(ctx context.Context, hubID, user int64) (string, error) {
	if err := t.migrate(ctx, hubID); err != nil {
		return "", err
	}
	field := strconv.FormatInt(user, 10)
	raw, err := t.rdb.HGet(ctx, grantsKey(hubID), field).Bytes()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var g grantRecord
	if err := json.Unmarshal(raw, &g); err != nil {
		return "", err
	}
	refresh, err := t.vault.OpenString(g.Refresh, grantAAD(hubID, user))
	if err != nil {
		return "", fmt.Errorf("portal %d: refresh token of user %d: %w", hubID, user, err)
	}
	if err := t.rdb.HDel(ctx, grantsKey(hubID), field).Err(); err != nil {
		return "", err
	}
	s, err := t.load(ctx, hubID)
	if err != nil {
		return refresh, err
	}
	if s.user == user { // its access token goes with it
		t.Forget(hubID)
		if err := t.rdb.HSet(ctx, tokensKey(hubID), "access", "", "expiry", 0).Err(); err != nil {
			return refresh, err
		}
	}
	return refresh, nil
}

// RefreshTokens returns every grant's refresh token, to revoke them all
// (a disconnect or delete).
func (t *Tokens) RefreshTokens(ctx context.Context, hubID int64) ([]string, error) {
	if err := t.migrate(ctx, hubID); err != nil {
		return nil, err
	}
	grants, err := t.grants(ctx, hubID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(grants))
	for _, g := range grants {
		rt, err := t.vault.OpenString(g.Refresh, grantAAD(hubID, g.UserID))
		if err != nil {
			return out, fmt.Errorf("portal %d: refresh token of user %d: %w", hubID, g.UserID, err)
		}
		out = append(out, rt)
	}
	return out, nil
}

// migrate moves a refresh token stored before grants were per user (field
// "refresh" of the tokens hash) into the grants, as the grant of the user
// who installed the portal; a refusal recorded with it stays recorded.
func (t *Tokens) migrate(ctx context.Context, hubID int64) error {
	vals, err := t.rdb.HMGet(ctx, tokensKey(hubID), "refresh", "revoked").Result()
	if err != nil {
		return fmt.Errorf("portal %d: load tokens: %w", hubID, err)
	}
	legacy, _ := vals[0].(string)
	if legacy == "" {
		return nil
	}
	revoked, _ := vals[1].(string)
	refresh, err := t.vault.OpenString(legacy, refreshAAD(hubID))
	if err != nil {
		return fmt.Errorf("portal %d: refresh token: %w", hubID, err)
	}
	g := grantRecord{SavedAt: t.now().UTC()}
	if t.portals != nil {
		if p, err := t.portals.Portal(ctx, hubID); err == nil {
			g.UserID, g.Email = p.InstalledByID, p.InstalledByEmail
		}
	}
	sealed, err := t.vault.SealString(refresh, grantAAD(hubID, g.UserID))
	if err != nil {
		return err
	}
	g.Refresh = sealed
	if revoked != "" {
		g.FailedAt, g.Reason = g.SavedAt, revoked
	}
	raw, err := json.Marshal(g)
	if err != nil {
		return err
	}
	_, err = t.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSetNX(ctx, grantsKey(hubID), strconv.FormatInt(g.UserID, 10), raw)
		p.HDel(ctx, tokensKey(hubID), "refresh")
		p.HSet(ctx, tokensKey(hubID), "user", g.UserID)
		return nil
	})
	return err
}
