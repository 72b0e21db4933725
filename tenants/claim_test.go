package tenants_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/tenants"
)

// TestConcurrentInstallsOfOnePortalByTwoUsers: two users installing the
// same new portal at the same moment end in one workspace: one owns it, the
// other joined it as an admin of that portal; no second workspace is left
// behind, and only that workspace lists the portal.
func TestConcurrentInstallsOfOnePortalByTwoUsers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for round := int64(0); round < 30; round++ {
		hub, users := 900+round, [2]int64{1000 + 2*round, 1001 + 2*round}
		var wg sync.WaitGroup
		start := make(chan struct{})
		var ws [2]tenants.Workspace
		var errs [2]error
		for i, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ws[i], _, errs[i] = e.store.Install(ctx, install(hub, u))
			}()
		}
		close(start)
		wg.Wait()
		require.NoError(t, errs[0], "round %d", round)
		require.NoError(t, errs[1], "round %d", round)
		p, err := e.store.Portal(ctx, hub)
		require.NoError(t, err)
		assert.Equal(t, p.WorkspaceID, ws[0].ID, "round %d", round)
		assert.Equal(t, p.WorkspaceID, ws[1].ID, "round %d", round)
		members, err := e.store.Members(ctx, p.WorkspaceID)
		require.NoError(t, err)
		require.Len(t, members, 2, "round %d", round)
		assert.Equal(t, tenants.Owner, members[0].Role)
		assert.Equal(t, tenants.Admin, members[1].Role)
		assert.Equal(t, []int64{hub}, members[1].Portals, "round %d: the other joined with that portal only", round)
		for _, u := range users {
			own, err := e.store.UserWorkspace(ctx, u)
			require.NoError(t, err)
			assert.Equal(t, p.WorkspaceID, own.ID, "round %d", round)
		}
		assert.Len(t, workspaceRecords(t, e), int(round)+1, "round %d: no workspace left behind", round)
	}
}

// TestPortalsListOnlyOwnedPortals: a workspace's listing never shows a
// portal another workspace owns, whatever its index says.
func TestPortalsListOnlyOwnedPortals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	wsA, pA, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)
	_, _, err = e.store.Install(ctx, install(202, 2))
	require.NoError(t, err)
	// A stale index entry, as a read-then-write install used to leave.
	require.NoError(t, e.rdb.ZAdd(ctx, "{w:"+wsA.ID+"}:portals", redis.Z{Score: 202, Member: 202}).Err())
	ps, err := e.store.Portals(ctx, wsA.ID)
	require.NoError(t, err)
	assert.Equal(t, []tenants.Portal{pA}, ps)
	_, err = e.store.WorkspacePortal(ctx, wsA.ID, 202)
	assert.True(t, errors.Is(err, tenants.ErrNotFound))
}
