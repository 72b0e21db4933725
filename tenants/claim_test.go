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
// same new portal at the same moment end with one owner; the other install
// is refused (ErrPortalElsewhere) and leaves that user no workspace, and
// only the owner's workspace lists the portal.
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
		won := 0
		for i := range users {
			if errs[i] == nil {
				won++
				continue
			}
			require.ErrorIs(t, errs[i], tenants.ErrPortalElsewhere, "round %d", round)
		}
		require.Equal(t, 1, won, "round %d: exactly one install keeps the portal", round)
		p, err := e.store.Portal(ctx, hub)
		require.NoError(t, err)
		listing := 0
		for i, u := range users {
			own, err := e.store.UserWorkspace(ctx, u)
			if errs[i] != nil {
				assert.ErrorIs(t, err, tenants.ErrNotFound, "round %d: the refused user has no workspace", round)
				continue
			}
			require.NoError(t, err)
			assert.Equal(t, p.WorkspaceID, own.ID, "round %d: the winner owns the portal", round)
			ps, err := e.store.Portals(ctx, own.ID)
			require.NoError(t, err)
			listing += len(ps)
		}
		assert.Equal(t, 1, listing, "round %d: one workspace lists the portal", round)
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
