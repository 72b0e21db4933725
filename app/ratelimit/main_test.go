package ratelimit_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/internal/clocktest"
	"github.com/refhub/refhub/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// t0 is where the injected clock starts.
var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// env is a fresh Redis database with an injected clock.
type env struct {
	rdb   *redis.Client
	clock *clocktest.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{rdb: redistest.Client(t), clock: clocktest.New(t0)}
}
