package app_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

// startOn starts refhub on a dedicated redis-server, logging to logs.
func startOn(t *testing.T, srv *redistest.Server, logs *apptest.SyncBuffer, configure func(*app.Config)) *apptest.Env {
	t.Helper()
	return apptest.Start(t, apptest.Options{Redis: &redis.Options{Addr: srv.Addr}, Configure: configure,
		AppOpts: app.Options{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}})
}

// TestRedisDurabilityCheck: against real redis-servers, refhub names the
// setting under which accepted signups can be lost and its fix, reads INFO
// where CONFIG is disabled (as on managed Redis), and says what it could not
// check instead of guessing.
func TestRedisDurabilityCheck(t *testing.T) {
	noConfig := []string{"--rename-command", "CONFIG", ""}
	for _, tc := range []struct {
		name      string
		opts      redistest.StartOptions
		problems  []string // settings reported
		unchecked string   // part of what is reported as not checked ("" when everything was)
	}{
		{"bare: no AOF, no snapshots", redistest.StartOptions{}, []string{"appendonly"}, ""},
		{"AOF", redistest.StartOptions{AppendOnly: true}, nil, ""},
		{"RDB snapshots only", redistest.StartOptions{Args: []string{"--save", "60 1"}}, nil, ""},
		{"AOF with allkeys-lru", redistest.StartOptions{AppendOnly: true, Args: []string{"--maxmemory-policy", "allkeys-lru"}},
			[]string{"maxmemory-policy"}, ""},
		{"no AOF and volatile-ttl", redistest.StartOptions{Args: []string{"--maxmemory-policy", "volatile-ttl"}},
			[]string{"appendonly", "maxmemory-policy"}, ""},
		{"CONFIG disabled, AOF", redistest.StartOptions{AppendOnly: true, Args: noConfig}, nil, ""},
		{"CONFIG disabled, no AOF", redistest.StartOptions{Args: noConfig}, nil, "AOF is off, and whether RDB snapshots are taken cannot be read"},
		{"CONFIG disabled, allkeys-lru", redistest.StartOptions{AppendOnly: true, Args: append([]string{"--maxmemory-policy", "allkeys-lru"}, noConfig...)},
			[]string{"maxmemory-policy"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs apptest.SyncBuffer
			env := startOn(t, redistest.StartT(t, tc.opts), &logs, nil)
			d, err := env.App.CheckRedisDurability(context.Background())
			require.NoError(t, err, "the default is a warning, never a refusal")
			assert.Equal(t, d, env.App.RedisDurability(), "the result is kept for the pages")
			var settings []string
			for _, p := range d.Problems {
				settings = append(settings, p.Setting)
				assert.Contains(t, logs.String(), `"setting":"`+p.Setting+`"`, "a warning names the setting")
				assert.Contains(t, logs.String(), `"fix":"CONFIG SET `+p.Setting, "and how to fix it")
				assert.Contains(t, logs.String(), `"level":"WARN"`)
			}
			assert.Equal(t, tc.problems, settings)
			if tc.unchecked == "" {
				assert.Empty(t, d.Unchecked)
				assert.NotContains(t, logs.String(), "could not check")
				return
			}
			require.Len(t, d.Unchecked, 1)
			assert.Contains(t, d.Unchecked[0], tc.unchecked)
			assert.Contains(t, d.Unchecked[0], "unknown command", "the reason CONFIG failed is kept")
			assert.Contains(t, logs.String(), "could not check Redis durability")
		})
	}
}

// TestRequireDurableRedis: with REFHUB_REQUIRE_DURABLE_REDIS=true, refhub
// refuses to start on a Redis that can lose signups, saying why and how to
// fix it; on a durable Redis, or without the variable, it starts.
func TestRequireDurableRedis(t *testing.T) {
	strict := func(c *app.Config) { c.RequireDurableRedis = true }
	var logs apptest.SyncBuffer
	bare := redistest.StartT(t, redistest.StartOptions{})
	err := runUntilListening(t, startOn(t, bare, &logs, strict))
	assert.ErrorIs(t, err, app.ErrRedisNotDurable)
	assert.ErrorContains(t, err, "REFHUB_REQUIRE_DURABLE_REDIS")
	assert.ErrorContains(t, err, "appendonly")
	assert.ErrorContains(t, err, "CONFIG SET appendonly yes")

	lru := redistest.StartT(t, redistest.StartOptions{AppendOnly: true, Args: []string{"--maxmemory-policy", "allkeys-lru"}})
	err = runUntilListening(t, startOn(t, lru, &logs, strict))
	assert.ErrorIs(t, err, app.ErrRedisNotDurable)
	assert.ErrorContains(t, err, "maxmemory-policy is allkeys-lru")

	durable := redistest.StartT(t, redistest.StartOptions{AppendOnly: true})
	assert.NoError(t, runUntilListening(t, startOn(t, durable, &logs, strict)))
	assert.NoError(t, runUntilListening(t, startOn(t, bare, &logs, nil)), "without the variable a risky Redis only warns")
}

// runUntilListening runs a second refhub process on env's configuration
// (on a free port) and stops it as soon as it listens. It returns Run's
// error: a refusal to start, or nil after a clean start and stop.
func runUntilListening(t *testing.T, env *apptest.Env) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := env.Config
	cfg.Addr = "127.0.0.1:0"
	a, err := app.New(cfg, app.Options{Redis: env.Redis, Logger: apptest.TestLogger(t), OnListening: cancel})
	require.NoError(t, err)
	err = a.Run(ctx)
	if err == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("refhub neither refused nor started within 20 s")
	}
	return err
}

// TestHomeShowsRedisRisk: the workspace home tells admins when refhub's
// Redis can lose signups, and says nothing when it cannot.
func TestHomeShowsRedisRisk(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts redistest.StartOptions
		want []string
	}{
		{"bare", redistest.StartOptions{}, []string{"Signups could be lost", "<code>appendonly</code>", "CONFIG SET appendonly yes"}},
		{"evicting", redistest.StartOptions{AppendOnly: true, Args: []string{"--maxmemory-policy", "allkeys-lru"}},
			[]string{"Signups could be lost", "<code>maxmemory-policy</code> is <code>allkeys-lru</code>"}},
		{"durable", redistest.StartOptions{AppendOnly: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs apptest.SyncBuffer
			env := startOn(t, redistest.StartT(t, tc.opts), &logs, nil)
			b := env.Install(1001, 501)
			_, err := env.App.CheckRedisDurability(context.Background())
			require.NoError(t, err)
			status, page := apptest.Get(t, b, env.URL("/app/"))
			require.Equal(t, http.StatusOK, status)
			if tc.want == nil {
				assert.NotContains(t, page, "redis-durability")
				return
			}
			for _, w := range tc.want {
				assert.Contains(t, page, w)
			}
		})
	}
}

// TestRedisDurabilityCheckOnCluster: on Redis Cluster every primary is
// checked, and a problem names the node it is on.
func TestRedisDurabilityCheckOnCluster(t *testing.T) {
	nodes := redistest.StartClusterT(t, redistest.StartOptions{AppendOnly: true}, redistest.StartOptions{AppendOnly: true},
		redistest.StartOptions{AppendOnly: true, Args: []string{"--maxmemory-policy", "allkeys-lru"}})
	env := apptest.Start(t, apptest.Options{})
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: nodes})
	t.Cleanup(func() { _ = rdb.Close() })
	a, err := app.New(env.Config, app.Options{Redis: rdb, Logger: apptest.TestLogger(t)})
	require.NoError(t, err)
	d, err := a.CheckRedisDurability(context.Background())
	require.NoError(t, err)
	require.Len(t, d.Problems, 1, "one of three primaries evicts")
	assert.Equal(t, "maxmemory-policy", d.Problems[0].Setting)
	assert.Equal(t, nodes[2], d.Problems[0].Node)
	assert.Empty(t, d.Unchecked)
}
