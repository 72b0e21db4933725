package tenants_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/tenants"
)

// TestOwnerOfAnOlderWorkspace: a workspace stored before members were
// recorded has its user as owner, written once on first read.
func TestOwnerOfAnOlderWorkspace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws, _, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)
	require.NoError(t, e.rdb.Del(ctx, "{w:"+ws.ID+"}:members").Err()) // as before teams

	m, err := e.store.Member(ctx, ws.ID, 1)
	require.NoError(t, err)
	assert.Equal(t, tenants.Member{UserID: 1, Email: "user1@example.com", Role: tenants.Owner, AllPortals: true, JoinedAt: ws.CreatedAt}, m)
	assert.True(t, m.Sees(999) && m.Writes(999))
	assert.Equal(t, int64(1), e.rdb.HLen(ctx, "{w:"+ws.ID+"}:members").Val(), "recorded")
	ms, err := e.store.Members(ctx, ws.ID)
	require.NoError(t, err)
	assert.Equal(t, []tenants.Member{m}, ms)
	_, err = e.store.Member(ctx, ws.ID, 2)
	assert.ErrorIs(t, err, tenants.ErrNotFound)
}

// TestSetMember: the owner grants a role and portals; bad roles, another
// workspace's portals and the owner's own record are refused with a
// message, and nothing changes.
func TestSetMember(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws, _, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)
	_, _, err = e.store.Install(ctx, install(102, 1))
	require.NoError(t, err)
	_, _, err = e.store.Install(ctx, install(202, 9)) // another workspace
	require.NoError(t, err)
	_, _, err = e.store.Install(ctx, install(101, 2))
	require.NoError(t, err)
	before, err := e.store.Member(ctx, ws.ID, 2)
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		user int64
		g    tenants.Grant
		msg  string
	}{
		"unknown role":               {2, tenants.Grant{Role: "root", AllPortals: true}, `role must be "admin" or "viewer"`},
		"owner role":                 {2, tenants.Grant{Role: tenants.Owner, AllPortals: true}, `role must be "admin" or "viewer"`},
		"another workspace's portal": {2, tenants.Grant{Role: tenants.Admin, Portals: []int64{101, 202}}, "portal 202 is not connected to this workspace"},
		"the owner":                  {1, tenants.Grant{Role: tenants.Viewer, Portals: []int64{101}}, "the owner's role and portals cannot be changed"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.store.SetMember(ctx, ws.ID, tc.user, tc.g)
			var ve *tenants.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Contains(t, err.Error(), tc.msg)
			after, err := e.store.Member(ctx, ws.ID, 2)
			require.NoError(t, err)
			assert.Equal(t, before, after)
		})
	}
	_, err = e.store.SetMember(ctx, ws.ID, 77, tenants.Grant{Role: tenants.Admin, AllPortals: true})
	assert.ErrorIs(t, err, tenants.ErrNotFound, "not a member")

	m, err := e.store.SetMember(ctx, ws.ID, 2, tenants.Grant{Role: tenants.Viewer, Portals: []int64{102, 101, 102}})
	require.NoError(t, err)
	assert.Equal(t, []int64{101, 102}, m.Portals)
	assert.True(t, m.Sees(102))
	assert.False(t, m.Writes(102), "a viewer reads only")
	m, err = e.store.SetMember(ctx, ws.ID, 2, tenants.Grant{Role: tenants.Admin, AllPortals: true})
	require.NoError(t, err)
	assert.True(t, m.Writes(103), "all portals includes later ones")
	assert.Equal(t, before.JoinedAt, m.JoinedAt)
	assert.Equal(t, before.Gen, m.Gen)
}

// TestRemoveMember: a removed member is no longer one, belongs to no
// workspace, and the API tokens they created are gone; others' stay. The
// owner cannot be removed. A deleted portal leaves no member's list.
func TestRemoveMember(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws, p, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)
	_, _, err = e.store.Install(ctx, install(101, 2))
	require.NoError(t, err)
	owner, err := e.store.Member(ctx, ws.ID, 1)
	require.NoError(t, err)
	second, err := e.store.Member(ctx, ws.ID, 2)
	require.NoError(t, err)
	_, ownerSecret, err := e.store.CreateAPIToken(ctx, ws.ID, owner, "owner's")
	require.NoError(t, err)
	tok, secret, err := e.store.CreateAPIToken(ctx, ws.ID, second, "second's")
	require.NoError(t, err)
	assert.Equal(t, int64(2), tok.CreatedBy)
	assert.Equal(t, second.Gen, tok.MemberGen)

	_, err = e.store.RemoveMember(ctx, ws.ID, 1)
	var ve *tenants.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, err.Error(), "the owner cannot be removed")

	gone, err := e.store.RemoveMember(ctx, ws.ID, 2)
	require.NoError(t, err)
	assert.Equal(t, second, gone)
	_, err = e.store.Member(ctx, ws.ID, 2)
	assert.ErrorIs(t, err, tenants.ErrNotFound)
	_, err = e.store.UserWorkspace(ctx, 2)
	assert.ErrorIs(t, err, tenants.ErrNotFound)
	_, err = e.store.APIToken(ctx, secret)
	assert.ErrorIs(t, err, tenants.ErrNotFound, "their token stops working")
	_, err = e.store.APIToken(ctx, ownerSecret)
	assert.NoError(t, err, "the owner's is kept")
	_, err = e.store.RemoveMember(ctx, ws.ID, 2)
	assert.ErrorIs(t, err, tenants.ErrNotFound)

	// They can come back through an install; it is a new membership.
	_, _, err = e.store.Install(ctx, install(101, 2))
	require.NoError(t, err)
	again, err := e.store.Member(ctx, ws.ID, 2)
	require.NoError(t, err)
	assert.NotEqual(t, second.Gen, again.Gen)

	require.NoError(t, e.store.DeletePortal(ctx, p))
	again, err = e.store.Member(ctx, ws.ID, 2)
	require.NoError(t, err)
	assert.Empty(t, again.Portals, "a deleted portal is no one's")
}

// TestViewerCannotConnectANewPortal: a viewer's install of a portal new to
// the workspace is refused and stores nothing; their install of a portal
// the workspace holds still signs them in.
func TestViewerCannotConnectANewPortal(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws, _, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)
	_, _, err = e.store.Install(ctx, install(101, 2))
	require.NoError(t, err)
	_, err = e.store.SetMember(ctx, ws.ID, 2, tenants.Grant{Role: tenants.Viewer, Portals: []int64{101}})
	require.NoError(t, err)
	_, _, err = e.store.Install(ctx, install(102, 2))
	require.ErrorIs(t, err, tenants.ErrViewerConnects)
	_, err = e.store.Portal(ctx, 102)
	assert.ErrorIs(t, err, tenants.ErrNotFound, "nothing stored")
	_, _, err = e.store.Install(ctx, install(101, 2))
	assert.NoError(t, err)
	m, err := e.store.Member(ctx, ws.ID, 2)
	require.NoError(t, err)
	assert.Equal(t, tenants.Viewer, m.Role, "signing in again keeps the role the owner gave")
}
