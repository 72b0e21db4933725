package queue_test

import (
	"context"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/refhub/refhub/internal/clocktest"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// t0 is where the injected clock starts in tests that do not compare with
// Redis's own clock.
var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// env is a queue on a fresh Redis database with an injected clock.
type env struct {
	rdb   *redis.Client
	clock *clocktest.Clock
	q     *queue.Queue
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAt(t, t0)
}

func newEnvAt(t *testing.T, start time.Time) *env {
	t.Helper()
	rdb := redistest.Client(t)
	c := clocktest.New(start)
	return &env{rdb: rdb, clock: c, q: queue.New(rdb, c.Now)}
}

// event builds a queued signup received now.
func (e *env) event(hub int64, src, email string) *queue.Event {
	now := e.clock.Now()
	return &queue.Event{ID: queue.NewEventID(now), SourceID: src, HubID: hub, Route: "default", Email: email,
		Status: queue.Queued, ReceivedAt: now, UpdatedAt: now,
		Payload: []payload.Field{{Path: "email", Value: email}, {Path: "first_name", Value: "Ann"}}}
}

// enqueue stores a fresh signup (unique dedupe hash) and returns it with
// its id.
func (e *env) enqueue(t *testing.T, hub int64, src, email string) queue.Event {
	t.Helper()
	ev := e.event(hub, src, email)
	id, dup, err := e.q.Enqueue(context.Background(), ev, "h-"+ev.ID)
	require.NoError(t, err)
	require.False(t, dup)
	require.Equal(t, ev.ID, id)
	return *ev
}

// claim leases the next due lane and fails the test if there is none.
func (e *env) claim(t *testing.T, owner string) *queue.Lease {
	t.Helper()
	l, _, err := e.q.Claim(context.Background(), owner, 30*time.Second)
	require.NoError(t, err)
	require.NotNil(t, l, "a lane should be due")
	return l
}

// claimable reports which lane, if any, a fresh owner can claim now. The
// lease is kept; callers that go on must release it.
func (e *env) claimable(t *testing.T) *queue.Lease {
	t.Helper()
	l, _, err := e.q.Claim(context.Background(), "probe-"+strconv.FormatInt(time.Now().UnixNano(), 36), 30*time.Second)
	require.NoError(t, err)
	return l
}

// keys lists every key of the test database, sorted.
func keys(t *testing.T, rdb *redis.Client) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		out = append(out, iter.Val())
	}
	require.NoError(t, iter.Err())
	sort.Strings(out)
	return out
}

// ready returns the lanes in the ready set with their due times.
func ready(t *testing.T, rdb *redis.Client) map[string]time.Time {
	t.Helper()
	zs, err := rdb.ZRangeWithScores(context.Background(), "{lanes}:ready", 0, -1).Result()
	require.NoError(t, err)
	out := map[string]time.Time{}
	for _, z := range zs {
		out[z.Member.(string)] = time.UnixMilli(int64(z.Score)).UTC()
	}
	return out
}

func ids(evs []queue.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}
