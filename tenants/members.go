package tenants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Role is what a member of a workspace may do (README.md, "Teams").
type Role string

// Roles.
const (
	// Owner: everything, on every portal, and the workspace's members. The
	// user who created the workspace; there is one.
	Owner Role = "owner"
	// Admin: configure, replay, disconnect, API tokens, on the portals
	// granted.
	Admin Role = "admin"
	// Viewer: reads activity and settings of the portals granted.
	Viewer Role = "viewer"
)

// Member is a HubSpot user who may sign in to a workspace.
type Member struct {
	UserID int64  `json:"user_id"`
	Email  string `json:"email"`
	Role   Role   `json:"role"`
	// AllPortals grants every portal of the workspace, present and future;
	// otherwise only Portals.
	AllPortals bool      `json:"all_portals"`
	Portals    []int64   `json:"portals,omitempty"`
	JoinedAt   time.Time `json:"joined_at"`
	JoinedVia  int64     `json:"joined_via_hub_id,omitempty"` // the portal whose install let them in
	// Gen is drawn when the member joins: a session or API token of an
	// earlier membership (removed since) names another and is refused.
	Gen string `json:"gen,omitempty"`
}

// Sees reports whether the member may read portal hub.
func (m Member) Sees(hub int64) bool {
	return m.Role == Owner || m.AllPortals || slices.Contains(m.Portals, hub)
}

// Writes reports whether the member may change portal hub (and what
// sends to it).
func (m Member) Writes(hub int64) bool { return m.CanWrite() && m.Sees(hub) }

// CanWrite reports whether the member's role changes anything at all.
func (m Member) CanWrite() bool { return m.Role == Owner || m.Role == Admin }

// SeesSource reports whether the member may read a source: every portal it
// sends or sent to must be theirs (its activity lives with those portals).
func (m Member) SeesSource(src Source) bool {
	for _, h := range src.AllPortals() {
		if !m.Sees(h) {
			return false
		}
	}
	return true
}

// WritesSource reports whether the member may change a source.
func (m Member) WritesSource(src Source) bool { return m.CanWrite() && m.SeesSource(src) }

func membersKey(wsID string) string { return workspaceKey(wsID) + ":members" }

// ownerOf is the member record of a workspace's owner, for a workspace
// created before members were recorded (it is then written once).
func ownerOf(ws Workspace) Member {
	return Member{UserID: ws.OwnerUserID, Email: ws.OwnerEmail, Role: Owner, AllPortals: true, JoinedAt: ws.CreatedAt}
}

// Members returns a workspace's members, the owner first, then by when
// they joined.
func (s *RedisStore) Members(ctx context.Context, wsID string) ([]Member, error) {
	ws, err := s.Workspace(ctx, wsID)
	if err != nil {
		return nil, err
	}
	raw, err := s.rdb.HGetAll(ctx, membersKey(wsID)).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(raw)+1)
	for _, v := range raw {
		var m Member
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			return nil, fmt.Errorf("workspace %s: member: %w", wsID, err)
		}
		out = append(out, m)
	}
	if _, ok := raw[strconv.FormatInt(ws.OwnerUserID, 10)]; !ok {
		own, err := s.migrateOwner(ctx, ws)
		if err != nil {
			return nil, err
		}
		out = append(out, own)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Role == Owner) != (out[j].Role == Owner) {
			return out[i].Role == Owner
		}
		return out[i].JoinedAt.Before(out[j].JoinedAt)
	})
	return out, nil
}

// Member returns member userID of workspace wsID, or ErrNotFound.
func (s *RedisStore) Member(ctx context.Context, wsID string, userID int64) (Member, error) {
	raw, err := s.rdb.HGet(ctx, membersKey(wsID), strconv.FormatInt(userID, 10)).Bytes()
	if errors.Is(err, redis.Nil) {
		ws, err := s.Workspace(ctx, wsID)
		if err != nil {
			return Member{}, err
		}
		if ws.OwnerUserID != userID {
			return Member{}, fmt.Errorf("member %d: %w", userID, ErrNotFound)
		}
		return s.migrateOwner(ctx, ws)
	}
	if err != nil {
		return Member{}, err
	}
	var m Member
	return m, json.Unmarshal(raw, &m)
}

// migrateOwner records the owner of a workspace made before members were.
func (s *RedisStore) migrateOwner(ctx context.Context, ws Workspace) (Member, error) {
	m := ownerOf(ws)
	raw, err := json.Marshal(m)
	if err != nil {
		return Member{}, err
	}
	if err := s.rdb.HSetNX(ctx, membersKey(ws.ID), strconv.FormatInt(m.UserID, 10), raw).Err(); err != nil {
		return Member{}, err
	}
	return m, nil
}

// updateMember changes member userID with fn, atomically against other
// changes of the workspace's members; a missing member is ErrNotFound
// unless create is set, when fn starts from a zero Member.
func (s *RedisStore) updateMember(ctx context.Context, wsID string, userID int64, create bool, fn func(*Member) error) (Member, error) {
	key, field := membersKey(wsID), strconv.FormatInt(userID, 10)
	var out Member
	for range 20 {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var m Member
			raw, err := tx.HGet(ctx, key, field).Bytes()
			switch {
			case errors.Is(err, redis.Nil) && !create:
				return fmt.Errorf("member %d: %w", userID, ErrNotFound)
			case errors.Is(err, redis.Nil):
			case err != nil:
				return err
			default:
				if err := json.Unmarshal(raw, &m); err != nil {
					return err
				}
			}
			if err := fn(&m); err != nil {
				return err
			}
			enc, err := json.Marshal(m)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, key, field, enc)
				return nil
			})
			out = m
			return err
		}, key)
		if !errors.Is(err, redis.TxFailedErr) {
			return out, err
		}
	}
	return Member{}, fmt.Errorf("member %d: too many concurrent changes", userID)
}

// join makes the installing user a member of workspace ws with portal hub
// (they proved in HubSpot that they administer it): a new member is an
// admin of that portal only; a member already there gains the portal.
func (s *RedisStore) join(ctx context.Context, ws Workspace, in Installation, now time.Time) error {
	if ws.OwnerUserID == in.UserID {
		_, err := s.Member(ctx, ws.ID, in.UserID) // records the owner if not yet
		return err
	}
	_, err := s.updateMember(ctx, ws.ID, in.UserID, true, func(m *Member) error {
		if m.UserID == 0 {
			*m = Member{UserID: in.UserID, Role: Admin, JoinedAt: now, JoinedVia: in.HubID, Gen: NewSecret()[:12]}
		}
		m.Email = in.UserEmail
		if !m.AllPortals && !slices.Contains(m.Portals, in.HubID) {
			m.Portals = append(m.Portals, in.HubID)
		}
		return nil
	})
	return err
}

// Grant is what the owner gives a member: a role, and every portal or a
// list of them.
type Grant struct {
	Role       Role
	AllPortals bool
	Portals    []int64
}

// SetMember changes a member's role and portals. The owner is not changed
// this way; every portal named must be the workspace's.
func (s *RedisStore) SetMember(ctx context.Context, wsID string, userID int64, g Grant) (Member, error) {
	if g.Role != Admin && g.Role != Viewer {
		return Member{}, &ValidationError{Problems: []string{`role must be "admin" or "viewer"`}}
	}
	if !g.AllPortals {
		ps, err := s.Portals(ctx, wsID)
		if err != nil {
			return Member{}, err
		}
		for _, h := range g.Portals {
			if !slices.ContainsFunc(ps, func(p Portal) bool { return p.HubID == h }) {
				return Member{}, &ValidationError{Problems: []string{fmt.Sprintf("portal %d is not connected to this workspace", h)}}
			}
		}
	}
	ws, err := s.Workspace(ctx, wsID)
	if err != nil {
		return Member{}, err
	}
	if ws.OwnerUserID == userID {
		return Member{}, &ValidationError{Problems: []string{"the owner's role and portals cannot be changed"}}
	}
	return s.updateMember(ctx, wsID, userID, false, func(m *Member) error {
		m.Role, m.AllPortals, m.Portals = g.Role, g.AllPortals, nil
		if !g.AllPortals {
			m.Portals = slices.Compact(slices.Sorted(slices.Values(g.Portals)))
		}
		return nil
	})
}

// RemoveMember removes a member (not the owner) and the API tokens they
// created: sessions and tokens of theirs stop working at once. It returns
// the member as they were.
func (s *RedisStore) RemoveMember(ctx context.Context, wsID string, userID int64) (Member, error) {
	ws, err := s.Workspace(ctx, wsID)
	if err != nil {
		return Member{}, err
	}
	if ws.OwnerUserID == userID {
		return Member{}, &ValidationError{Problems: []string{"the owner cannot be removed"}}
	}
	m, err := s.Member(ctx, wsID, userID)
	if err != nil {
		return Member{}, err
	}
	if err := s.rdb.HDel(ctx, membersKey(wsID), strconv.FormatInt(userID, 10)).Err(); err != nil {
		return Member{}, err
	}
	if err := abandonScript.Run(ctx, s.rdb, []string{userKey(userID)}, wsID).Err(); err != nil {
		return m, err
	}
	toks, err := s.APITokens(ctx, wsID)
	if err != nil {
		return m, err
	}
	for _, t := range toks {
		if t.CreatedBy == userID {
			if err := s.RevokeAPIToken(ctx, wsID, t.ID); err != nil && !errors.Is(err, ErrNotFound) {
				return m, err
			}
		}
	}
	return m, nil
}

// dropFromMembers removes a deleted portal from every member's list.
func (s *RedisStore) dropFromMembers(ctx context.Context, wsID string, hub int64) error {
	ms, err := s.rdb.HGetAll(ctx, membersKey(wsID)).Result()
	if err != nil {
		return err
	}
	for field, raw := range ms {
		var m Member
		if json.Unmarshal([]byte(raw), &m) != nil || !slices.Contains(m.Portals, hub) {
			continue
		}
		uid, _ := strconv.ParseInt(field, 10, 64)
		_, err := s.updateMember(ctx, wsID, uid, false, func(m *Member) error {
			m.Portals = slices.DeleteFunc(m.Portals, func(h int64) bool { return h == hub })
			return nil
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}
