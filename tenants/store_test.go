package tenants_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/tenants"
)

// workspaceRecords counts workspace records ("{w:<id>}" keys, not their
// indexes).
func workspaceRecords(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	for k := range dump(t, e.rdb) {
		if strings.HasPrefix(k, "{w:") && strings.HasSuffix(k, "}") {
			out = append(out, k)
		}
	}
	return out
}

func TestInstallFirstCreatesWorkspace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws, p, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)

	assert.True(t, strings.HasPrefix(ws.ID, "ws_"), ws.ID)
	assert.Equal(t, int64(1), ws.OwnerUserID)
	assert.Equal(t, "user1@example.com", ws.OwnerEmail)
	assert.Equal(t, "hub-101.example.com", ws.Name)
	assert.Equal(t, e.clock.Now(), ws.CreatedAt)

	assert.Equal(t, tenants.Portal{
		HubID: 101, WorkspaceID: ws.ID, Domain: "hub-101.example.com", Status: tenants.Connected,
		InstalledByID: 1, InstalledByEmail: "user1@example.com", Scopes: []string{"oauth", "crm.objects.contacts.write"},
		ConnectedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
	}, p)

	got, err := e.store.Workspace(ctx, ws.ID)
	require.NoError(t, err)
	assert.Equal(t, ws, got)
	got, err = e.store.UserWorkspace(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, ws, got)
	stored, err := e.store.Portal(ctx, 101)
	require.NoError(t, err)
	assert.Equal(t, p, stored)
	portals, err := e.store.Portals(ctx, ws.ID)
	require.NoError(t, err)
	assert.Equal(t, []tenants.Portal{p}, portals)

	for k := range dump(t, e.rdb) {
		if strings.Contains(k, "{p:101}") {
			assert.True(t, strings.HasPrefix(k, "{p:101}"), "portal keys carry the portal hash tag: %s", k)
		}
	}
}

func TestInstallSecondPortalJoinsWorkspace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws1, _, err := e.store.Install(ctx, install(300, 1))
	require.NoError(t, err)
	ws2, p2, err := e.store.Install(ctx, install(200, 1))
	require.NoError(t, err)

	assert.Equal(t, ws1, ws2)
	assert.Equal(t, ws1.ID, p2.WorkspaceID)
	portals, err := e.store.Portals(ctx, ws1.ID)
	require.NoError(t, err)
	require.Len(t, portals, 2)
	assert.Equal(t, []int64{200, 300}, []int64{portals[0].HubID, portals[1].HubID}, "ordered by hub id")
	assert.Len(t, workspaceRecords(t, e), 1)
}

func TestReinstallReconnects(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws, first, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)
	_, err = e.store.SetPortalStatus(ctx, 101, tenants.NeedsReconnect, "HubSpot refused the refresh token")
	require.NoError(t, err)

	e.clock.Advance(time.Hour)
	in := install(101, 1)
	in.Domain = "renamed.example.com"
	in.Scopes = []string{"oauth"}
	ws2, p, err := e.store.Install(ctx, in)
	require.NoError(t, err)

	assert.Equal(t, ws.ID, ws2.ID, "the portal keeps its workspace")
	assert.Equal(t, tenants.Connected, p.Status)
	assert.Empty(t, p.StatusReason)
	assert.Equal(t, "renamed.example.com", p.Domain)
	assert.Equal(t, []string{"oauth"}, p.Scopes)
	assert.Equal(t, e.clock.Now(), p.ConnectedAt)
	assert.Equal(t, e.clock.Now(), p.UpdatedAt)
	assert.True(t, p.ConnectedAt.After(first.ConnectedAt))
	portals, err := e.store.Portals(ctx, ws.ID)
	require.NoError(t, err)
	assert.Len(t, portals, 1)
}

// TestInstallPortalOfAnotherWorkspace: a user of no workspace who installs
// a portal a workspace holds joins it as an admin of that portal only; a
// user with a workspace of their own is refused, naming the owner, and the
// portal is left alone.
func TestInstallPortalOfAnotherWorkspace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws1, p1, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)
	_, _, err = e.store.Install(ctx, install(102, 1))
	require.NoError(t, err)

	t.Run("a user of no workspace joins", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		got, p, err := e.store.Install(ctx, install(101, 2))
		require.NoError(t, err)
		assert.Equal(t, ws1, got)
		assert.Equal(t, ws1.ID, p.WorkspaceID)
		uw, err := e.store.UserWorkspace(ctx, 2)
		require.NoError(t, err)
		assert.Equal(t, ws1.ID, uw.ID)
		m, err := e.store.Member(ctx, ws1.ID, 2)
		require.NoError(t, err)
		assert.Equal(t, tenants.Admin, m.Role)
		assert.Equal(t, []int64{101}, m.Portals)
		assert.False(t, m.AllPortals)
		assert.Equal(t, int64(101), m.JoinedVia)
		assert.Equal(t, e.clock.Now(), m.JoinedAt)
		assert.Equal(t, "user2@example.com", m.Email)
		assert.True(t, m.Sees(101))
		assert.False(t, m.Sees(102), "the workspace's other portal is not theirs")
		assert.Len(t, workspaceRecords(t, e), 1)
	})

	t.Run("a user with a workspace of their own", func(t *testing.T) {
		before := dump(t, e.rdb)[tenants.PortalTag(101)]
		ws3, _, err := e.store.Install(ctx, install(303, 3))
		require.NoError(t, err)
		got, p, err := e.store.Install(ctx, install(101, 3))
		require.ErrorIs(t, err, tenants.ErrPortalElsewhere)
		var ee *tenants.ElsewhereError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, "user1@example.com", ee.OwnerEmail, "the error names the owner to contact")
		assert.Equal(t, ws3, got)
		assert.Zero(t, p)
		assert.Equal(t, before, dump(t, e.rdb)[tenants.PortalTag(101)], "the portal is left unchanged")
		mine, err := e.store.Portals(ctx, ws3.ID)
		require.NoError(t, err)
		assert.Len(t, mine, 1)
		_, err = e.store.Member(ctx, ws1.ID, 3)
		assert.ErrorIs(t, err, tenants.ErrNotFound)
	})
	after, err := e.store.Portal(ctx, 101)
	require.NoError(t, err)
	assert.Equal(t, ws1.ID, after.WorkspaceID)
	assert.Equal(t, p1.ConnectedAt.Add(time.Minute), after.ConnectedAt, "the joiner's install reconnected it")
}

func TestConcurrentFirstInstall(t *testing.T) {
	tests := []struct {
		name string
		hub  func(i int) int64
		want int
	}{
		{name: "ten portals", hub: func(i int) int64 { return int64(500 + i) }, want: 10},
		{name: "the same portal ten times", hub: func(int) int64 { return 500 }, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			var wg sync.WaitGroup
			ids := make([]string, 10)
			errs := make([]error, 10)
			start := make(chan struct{})
			for i := range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					ws, _, err := e.store.Install(ctx, install(tc.hub(i), 7))
					ids[i], errs[i] = ws.ID, err
				}()
			}
			close(start)
			wg.Wait()
			for i := range 10 {
				require.NoError(t, errs[i])
				assert.Equal(t, ids[0], ids[i], "every install lands in the same workspace")
			}
			assert.Equal(t, []string{"{w:" + ids[0] + "}"}, workspaceRecords(t, e), "exactly one workspace record")
			ws, err := e.store.UserWorkspace(ctx, 7)
			require.NoError(t, err)
			assert.Equal(t, ids[0], ws.ID)
			portals, err := e.store.Portals(ctx, ws.ID)
			require.NoError(t, err)
			assert.Len(t, portals, tc.want)
		})
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	wsA, _, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)
	wsB, _, err := e.store.Install(ctx, install(202, 2))
	require.NoError(t, err)
	srcA, err := e.store.CreateSource(ctx, wsA.ID, 101, "A")
	require.NoError(t, err)

	tests := []struct {
		name string
		call func() error
	}{
		{"workspace", func() error { _, err := e.store.Workspace(ctx, "ws_nope"); return err }},
		{"user workspace", func() error { _, err := e.store.UserWorkspace(ctx, 99); return err }},
		{"portal", func() error { _, err := e.store.Portal(ctx, 999); return err }},
		{"another workspace's portal", func() error { _, err := e.store.WorkspacePortal(ctx, wsB.ID, 101); return err }},
		{"missing workspace portal", func() error { _, err := e.store.WorkspacePortal(ctx, wsA.ID, 999); return err }},
		{"source", func() error { _, err := e.store.Source(ctx, "src_nope"); return err }},
		{"another workspace's source", func() error { _, err := e.store.WorkspaceSource(ctx, wsB.ID, srcA.ID); return err }},
		{"source by token", func() error { _, err := e.store.SourceByToken(ctx, tenants.NewSecret()); return err }},
		{"save missing source", func() error { _, err := e.store.SaveSource(ctx, tenants.Source{ID: "src_nope"}); return err }},
		{"status of a missing portal", func() error {
			_, err := e.store.SetPortalStatus(ctx, 999, tenants.Disconnected, "")
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorIs(t, tc.call(), tenants.ErrNotFound)
		})
	}

	p, err := e.store.WorkspacePortal(ctx, wsA.ID, 101)
	require.NoError(t, err)
	assert.Equal(t, int64(101), p.HubID)
	src, err := e.store.WorkspaceSource(ctx, wsA.ID, srcA.ID)
	require.NoError(t, err)
	assert.Equal(t, srcA.ID, src.ID)
}

func TestSetPortalStatus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, p0, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)

	e.clock.Advance(time.Minute)
	p, err := e.store.SetPortalStatus(ctx, 101, tenants.NeedsReconnect, "uninstalled")
	require.NoError(t, err)
	assert.Equal(t, tenants.NeedsReconnect, p.Status)
	assert.Equal(t, "uninstalled", p.StatusReason)
	assert.Equal(t, e.clock.Now(), p.UpdatedAt)
	assert.Equal(t, p0.ConnectedAt, p.ConnectedAt)

	e.clock.Advance(time.Minute)
	same, err := e.store.SetPortalStatus(ctx, 101, tenants.NeedsReconnect, "uninstalled")
	require.NoError(t, err)
	assert.Equal(t, p.UpdatedAt, same.UpdatedAt, "an unchanged status is not rewritten")

	stored, err := e.store.Portal(ctx, 101)
	require.NoError(t, err)
	assert.Equal(t, p, stored)
}

func TestDeletePortal(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws, p, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)
	_, _, err = e.store.Install(ctx, install(102, 1))
	require.NoError(t, err)

	require.NoError(t, e.store.DeletePortal(ctx, p))
	_, err = e.store.Portal(ctx, 101)
	assert.ErrorIs(t, err, tenants.ErrNotFound)
	portals, err := e.store.Portals(ctx, ws.ID)
	require.NoError(t, err)
	require.Len(t, portals, 1)
	assert.Equal(t, int64(102), portals[0].HubID)

	// Installed again by someone else, the portal belongs to their new
	// workspace and never shows in the old one.
	other, _, err := e.store.Install(ctx, install(101, 2))
	require.NoError(t, err)
	require.NotEqual(t, ws.ID, other.ID)
	portals, err = e.store.Portals(ctx, ws.ID)
	require.NoError(t, err)
	require.Len(t, portals, 1)
	assert.Equal(t, int64(102), portals[0].HubID)
}
