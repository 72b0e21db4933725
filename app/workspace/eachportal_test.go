package workspace_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/refhub/refhub/app/workspace"
)

// TestEachPortal: every portal is read, at most PortalReads at a time,
// and a failed read fails the page (its error, not a half-filled page).
func TestEachPortal(t *testing.T) {
	var running, most atomic.Int32
	var mu sync.Mutex
	seen := map[int]bool{}
	err := workspace.EachPortal(context.Background(), 25, func(ctx context.Context, i int) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		seen[i] = true
		mu.Unlock()
		return nil
	})
	assert.NoError(t, err)
	assert.Len(t, seen, 25, "every portal read")
	assert.LessOrEqual(t, most.Load(), int32(workspace.PortalReads))
	assert.Greater(t, most.Load(), int32(1), "reads overlap")

	boom := errors.New("redis: connection refused")
	err = workspace.EachPortal(context.Background(), 25, func(ctx context.Context, i int) error {
		if i == 7 {
			return boom
		}
		return nil
	})
	assert.ErrorIs(t, err, boom)
}
