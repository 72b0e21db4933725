package ratelimit_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
)

// limited gives a portal both kinds of rate-limit state: slots taken in the
// window and a limit HubSpot announced.
func limited(t *testing.T, l *ratelimit.Limiter, hub int64) {
	t.Helper()
	r, _, err := l.Reserve(context.Background(), hub, 2)
	require.NoError(t, err)
	require.NotNil(t, r)
	l.Observe(hub, hubspot.Announced{Max: 22, Interval: 2 * time.Second})
}

func allKeys(t *testing.T, e *env) []string {
	t.Helper()
	keys, err := e.rdb.Keys(context.Background(), "*").Result()
	require.NoError(t, err)
	sort.Strings(keys)
	return keys
}

// TestKeysShareThePortalsHashTag: the limiter's keys live in the portal's
// hash slot (Redis Cluster runs its script on one node), under the names
// the keyspace table of docs/ARCHITECTURE.md gives.
func TestKeysShareThePortalsHashTag(t *testing.T) {
	e := newEnv(t)
	limited(t, ratelimit.New(e.rdb, 10, 10*time.Second, e.clock), 1001)
	assert.Equal(t, []string{"{p:1001}:rl", "{p:1001}:rlmax"}, allKeys(t, e))
}

// TestPurge: a deleted portal's rate-limit state goes, another portal's
// stays, and a limit announced again after the purge is written again.
func TestPurge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := ratelimit.New(e.rdb, 10, 10*time.Second, e.clock)
	limited(t, l, 1001)
	limited(t, l, 1002)

	require.NoError(t, l.Purge(ctx, 1001))
	assert.Equal(t, []string{"{p:1002}:rl", "{p:1002}:rlmax"}, allKeys(t, e))

	l.Observe(1001, hubspot.Announced{Max: 22, Interval: 2 * time.Second})
	n, err := e.rdb.Exists(ctx, "{p:1001}:rlmax").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the limiter forgot what it had written for the purged portal")
}
