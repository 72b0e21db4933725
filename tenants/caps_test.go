package tenants_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/tenants"
)

// TestWorkspaceCaps: a workspace gets at most Caps.Sources sources and
// Caps.APITokens tokens, even when many are created at once; past a cap
// the creation fails with a *CapError and writes nothing; deleting one
// makes room again. Another workspace has caps of its own.
func TestWorkspaceCaps(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.store.SetCaps(tenants.Caps{Sources: 3, APITokens: 2})
	ws, _, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)
	other, _, err := e.store.Install(ctx, install(202, 2))
	require.NoError(t, err)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var made []tenants.Source
	capped := 0
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src, err := e.store.CreateSource(ctx, ws.ID, 101, "S")
			mu.Lock()
			defer mu.Unlock()
			var ce *tenants.CapError
			if errors.As(err, &ce) {
				capped++
				assert.Equal(t, 3, ce.Max)
				assert.Contains(t, ce.Error(), "3 sources, the most it may have")
				return
			}
			assert.NoError(t, err)
			made = append(made, src)
		}()
	}
	wg.Wait()
	assert.Len(t, made, 3)
	assert.Equal(t, 7, capped)
	srcs, err := e.store.Sources(ctx, ws.ID)
	require.NoError(t, err)
	assert.Len(t, srcs, 3, "nothing is written past the cap")

	require.NoError(t, e.store.DeleteSource(ctx, made[0]))
	_, err = e.store.CreateSource(ctx, ws.ID, 101, "S")
	assert.NoError(t, err, "deleting one makes room")
	_, err = e.store.CreateSource(ctx, other.ID, 202, "S")
	assert.NoError(t, err, "another workspace has its own cap")

	for i := range 2 {
		_, _, err := e.store.CreateAPIToken(ctx, ws.ID, tenants.Member{}, "t"+itoa(int64(i)))
		require.NoError(t, err)
	}
	_, _, err = e.store.CreateAPIToken(ctx, ws.ID, tenants.Member{}, "one too many")
	var ce *tenants.CapError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "API tokens", ce.What)
	toks, err := e.store.APITokens(ctx, ws.ID)
	require.NoError(t, err)
	assert.Len(t, toks, 2)
}
