package tenants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sealer encrypts secrets at rest (implemented by oauth.Vault).
type Sealer interface {
	SealString(plaintext, aad string) (string, error)
	OpenString(sealed, aad string) (string, error)
}

// RedisStore keeps tenants in Redis. Records are JSON values; indexes are
// sets. Multi-record reads are pipelined per key, never MGET, so they work on
// Redis Cluster where the keys live in different slots.
type RedisStore struct {
	rdb   redis.UniversalClient
	vault Sealer
	now   func() time.Time
	caps  Caps
}

// NewRedisStore returns a store on rdb that seals secrets with vault.
func NewRedisStore(rdb redis.UniversalClient, vault Sealer, now func() time.Time) *RedisStore {
	if now == nil {
		now = time.Now
	}
	return &RedisStore{rdb: rdb, vault: vault, now: now}
}

func (s *RedisStore) getJSON(ctx context.Context, key string, v any) error {
	raw, err := s.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func (s *RedisStore) setJSON(ctx context.Context, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, key, raw, 0).Err()
}

// getMany loads the JSON records at keys, skipping missing ones, with one
// pipelined round trip.
func getMany[T any](ctx context.Context, rdb redis.UniversalClient, keys []string) ([]T, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]T, 0, len(keys))
	for _, c := range cmds {
		raw, err := c.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Workspace returns the workspace with id.
func (s *RedisStore) Workspace(ctx context.Context, id string) (Workspace, error) {
	var w Workspace
	if err := s.getJSON(ctx, workspaceKey(id), &w); err != nil {
		return Workspace{}, fmt.Errorf("workspace %s: %w", id, err)
	}
	return w, nil
}

// UserWorkspace returns the workspace a HubSpot user belongs to.
func (s *RedisStore) UserWorkspace(ctx context.Context, userID int64) (Workspace, error) {
	id, err := s.rdb.Get(ctx, userKey(userID)).Result()
	if errors.Is(err, redis.Nil) {
		return Workspace{}, fmt.Errorf("user %d: %w", userID, ErrNotFound)
	}
	if err != nil {
		return Workspace{}, err
	}
	return s.Workspace(ctx, id)
}

// Portal returns the portal hubID.
func (s *RedisStore) Portal(ctx context.Context, hubID int64) (Portal, error) {
	var p Portal
	if err := s.getJSON(ctx, PortalTag(hubID), &p); err != nil {
		return Portal{}, fmt.Errorf("portal %d: %w", hubID, err)
	}
	return p, nil
}

// WorkspacePortal returns portal hubID if it belongs to workspace wsID, and
// ErrNotFound otherwise (so a caller cannot tell another tenant's portal
// from a missing one).
func (s *RedisStore) WorkspacePortal(ctx context.Context, wsID string, hubID int64) (Portal, error) {
	p, err := s.Portal(ctx, hubID)
	if err != nil {
		return Portal{}, err
	}
	if p.WorkspaceID != wsID {
		return Portal{}, fmt.Errorf("portal %d: %w", hubID, ErrNotFound)
	}
	return p, nil
}

// Portals returns the portals of a workspace, ordered by hub id. Only
// portals the workspace owns are listed, whatever its index holds.
func (s *RedisStore) Portals(ctx context.Context, wsID string) ([]Portal, error) {
	ids, err := s.rdb.ZRange(ctx, workspacePortalsKey(wsID), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		n, _ := strconv.ParseInt(id, 10, 64)
		keys[i] = PortalTag(n)
	}
	all, err := getMany[Portal](ctx, s.rdb, keys)
	if err != nil {
		return nil, err
	}
	owned := all[:0]
	for _, p := range all {
		if p.WorkspaceID == wsID {
			owned = append(owned, p)
		}
	}
	return owned, nil
}

// SetPortalStatus records a portal's connection state and why.
func (s *RedisStore) SetPortalStatus(ctx context.Context, hubID int64, status PortalStatus, reason string) (Portal, error) {
	p, err := s.Portal(ctx, hubID)
	if err != nil {
		return Portal{}, err
	}
	if p.Status == status && p.StatusReason == reason {
		return p, nil
	}
	p.Status, p.StatusReason, p.UpdatedAt = status, reason, s.now().UTC()
	return p, s.setJSON(ctx, PortalTag(hubID), p)
}

// Installation is what HubSpot told refhub about a completed OAuth install.
type Installation struct {
	HubID     int64
	Domain    string
	UserID    int64
	UserEmail string
	Scopes    []string
}

// ErrPortalElsewhere means the portal is connected to a workspace the
// installing user cannot join: they belong to another workspace.
var ErrPortalElsewhere = errors.New("portal belongs to another workspace")

// ErrViewerConnects refuses a viewer's install of a portal new to the
// workspace: connecting one is a change, which viewers do not make.
var ErrViewerConnects = errors.New("a viewer of the workspace cannot connect a new portal to it: ask its owner")

// Install records an install: the first install of a user creates their
// workspace; later installs by the same user join it; reinstalling a portal
// reconnects it. A user who installs a portal another workspace holds, and
// belongs to no workspace, joins that workspace as an admin of that portal
// (they proved in HubSpot that they administer it); one who belongs to
// another workspace is refused (an *ElsewhereError naming that workspace's
// owner) and the portal left alone.
// The portal is claimed atomically: of two users installing the same new
// portal at once, one creates the workspace and the other joins it.
func (s *RedisStore) Install(ctx context.Context, in Installation) (Workspace, Portal, error) {
	ws, p, err := s.install(ctx, in)
	var lost *lostClaim
	if errors.As(err, &lost) { // a concurrent install by another user created the portal's workspace
		ws, p, err = s.install(ctx, in)
	}
	return ws, p, err
}

// lostClaim is a portal claimed by another workspace between the read and
// the claim of an install.
type lostClaim struct{ owner string }

func (e *lostClaim) Error() string { return "portal claimed by workspace " + e.owner }

func (s *RedisStore) install(ctx context.Context, in Installation) (Workspace, Portal, error) {
	now := s.now().UTC()
	existing, err := s.Portal(ctx, in.HubID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Workspace{}, Portal{}, err
	}
	var ws Workspace
	created := false
	if existing.HubID != 0 {
		// Refuse before creating anything: a refused install must not leave
		// the user a workspace named after someone else's portal.
		if ws, err = s.enter(ctx, existing.WorkspaceID, in.UserID); err != nil {
			return ws, Portal{}, err
		}
	} else if ws, created, err = s.ensureUserWorkspace(ctx, in, now); err != nil {
		return Workspace{}, Portal{}, err
	} else if !created {
		// Connecting a new portal changes the workspace: not a viewer's.
		if m, err := s.Member(ctx, ws.ID, in.UserID); err == nil && !m.CanWrite() {
			return ws, Portal{}, ErrViewerConnects
		}
	}
	p := Portal{HubID: in.HubID, WorkspaceID: ws.ID, ConnectedAt: now}
	if existing.WorkspaceID == ws.ID {
		p = existing // the workspace's own portal (checked above): reconnect it
	}
	p.Domain, p.Scopes, p.Status, p.StatusReason = in.Domain, in.Scopes, Connected, ""
	p.InstalledByID, p.InstalledByEmail, p.UpdatedAt, p.ConnectedAt = in.UserID, in.UserEmail, now, now
	owner, err := s.claim(ctx, p)
	if err != nil {
		return Workspace{}, Portal{}, err
	}
	if owner != "" { // someone else's install claimed the portal since it was read
		if created {
			s.abandonWorkspace(ctx, ws, in.UserID)
			ws = Workspace{}
		}
		return ws, Portal{}, &lostClaim{owner: owner}
	}
	if err := s.rdb.ZAdd(ctx, workspacePortalsKey(ws.ID), redis.Z{Score: float64(in.HubID), Member: in.HubID}).Err(); err != nil {
		return Workspace{}, Portal{}, err
	}
	if err := s.join(ctx, ws, in, now); err != nil {
		return Workspace{}, Portal{}, err
	}
	return ws, p, nil
}

// enter returns workspace wsID for a user installing one of its portals:
// theirs already, or joined now if they belong to no workspace. A user of
// another workspace gets an *ElsewhereError (and that workspace).
func (s *RedisStore) enter(ctx context.Context, wsID string, userID int64) (Workspace, error) {
	uw, err := s.UserWorkspace(ctx, userID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Workspace{}, err
	}
	if err == nil && uw.ID != wsID {
		return uw, s.elsewhere(ctx, wsID)
	}
	if err != nil { // no workspace yet: this one
		if _, err := s.rdb.SetNX(ctx, userKey(userID), wsID, 0).Result(); err != nil {
			return Workspace{}, err
		}
		if uw, err = s.UserWorkspace(ctx, userID); err != nil {
			return Workspace{}, err
		}
		if uw.ID != wsID { // their own install elsewhere won meanwhile
			return uw, s.elsewhere(ctx, wsID)
		}
	}
	return uw, nil
}

// elsewhere is ErrPortalElsewhere naming the owner of workspace wsID.
func (s *RedisStore) elsewhere(ctx context.Context, wsID string) error {
	owner, _ := s.Workspace(ctx, wsID)
	return &ElsewhereError{OwnerEmail: owner.OwnerEmail}
}

// claimScript stores a portal record unless the portal belongs to another
// workspace, whose id it then returns ("" when stored).
// KEYS: portal. ARGV: workspace id, record.
var claimScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local ws = cjson.decode(cur)['workspace_id']
  if ws ~= ARGV[1] then return ws end
end
redis.call('SET', KEYS[1], ARGV[2])
return ''
`)

// claim stores p unless its portal belongs to another workspace, whose id
// it returns.
func (s *RedisStore) claim(ctx context.Context, p Portal) (string, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	owner, err := claimScript.Run(ctx, s.rdb, []string{PortalTag(p.HubID)}, p.WorkspaceID, raw).Text()
	if err != nil {
		return "", fmt.Errorf("portal %d: claim: %w", p.HubID, err)
	}
	return owner, nil
}

// ensureUserWorkspace returns the user's workspace, creating it on the
// user's first install (created is then true).
func (s *RedisStore) ensureUserWorkspace(ctx context.Context, in Installation, now time.Time) (Workspace, bool, error) {
	ws, err := s.UserWorkspace(ctx, in.UserID)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return ws, false, err
	}
	ws = Workspace{ID: NewID("ws"), Name: in.Domain, OwnerUserID: in.UserID, OwnerEmail: in.UserEmail, CreatedAt: now}
	if err := s.setJSON(ctx, workspaceKey(ws.ID), ws); err != nil {
		return Workspace{}, false, err
	}
	won, err := s.rdb.SetNX(ctx, userKey(in.UserID), ws.ID, 0).Result()
	if err != nil {
		return Workspace{}, false, err
	}
	if !won { // a concurrent install by the same user created one first
		s.rdb.Del(ctx, workspaceKey(ws.ID))
		ws, err = s.UserWorkspace(ctx, in.UserID)
		return ws, false, err
	}
	return ws, true, nil
}

// abandonScript deletes a user's workspace mapping if it still names the
// workspace. KEYS: user. ARGV: workspace id.
var abandonScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// abandonWorkspace removes a workspace an install created and then lost
// its portal, so the user is not left a workspace named after another
// tenant's portal; one that a concurrent install of the same user has
// given a portal meanwhile is kept.
func (s *RedisStore) abandonWorkspace(ctx context.Context, ws Workspace, userID int64) {
	if n, err := s.rdb.ZCard(ctx, workspacePortalsKey(ws.ID)).Result(); err != nil || n > 0 {
		return
	}
	if err := abandonScript.Run(ctx, s.rdb, []string{userKey(userID)}, ws.ID).Err(); err == nil {
		s.rdb.Del(ctx, workspaceKey(ws.ID))
	}
}

// DeletePortal removes a portal record and its membership in the workspace.
// Keys of the portal's queue and activity are removed by their owners.
func (s *RedisStore) DeletePortal(ctx context.Context, p Portal) error {
	if err := s.rdb.Del(ctx, PortalTag(p.HubID)).Err(); err != nil {
		return err
	}
	if err := s.rdb.ZRem(ctx, workspacePortalsKey(p.WorkspaceID), p.HubID).Err(); err != nil {
		return err
	}
	return s.dropFromMembers(ctx, p.WorkspaceID, p.HubID)
}
