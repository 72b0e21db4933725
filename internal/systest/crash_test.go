package systest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/redistest"
)

// TestCrashAndRestartUnderLoad: 20,000 signups over 50 sources and 20
// portals reach two replicas while one replica is killed with SIGKILL and
// restarted twice, and Redis (appendonly yes, appendfsync everysec) is
// restarted once. Every signup answered 2xx is in HubSpot or dead-lettered.
func TestCrashAndRestartUnderLoad(t *testing.T) {
	rs := redistest.StartT(t, redistest.StartOptions{AppendOnly: true, Args: []string{"--appendfsync", "everysec"}})
	ps, hubs := portals(20, 10001)
	c := startCluster(t, clusterOptions{replicas: 2, redisURL: "redis://" + rs.Addr + "/0", portals: ps})
	a := c.installAll(hubs, 501)
	srcs := a.createSources(50, hubs)

	gen := c.loadGen(srcs)
	const n = 20000
	chaosDone := make(chan []string)
	go func() { chaosDone <- chaos(t, c, rs, gen, n) }()
	start := time.Now()
	signups := gen.run("crash", n, 16)
	sent := time.Since(start)
	events := <-chaosDone

	tl := a.settle(c.sim, signups, srcs, 45*time.Second, 3*time.Minute)
	t.Logf("crash and restart: %s (sent in %s; %v)", tl, sent.Round(time.Millisecond), events)
	assert.Zero(t, tl.Lost)
	assert.Greater(t, tl.Accepted, n*9/10, "most signups were accepted despite the crashes")
	assert.Zero(t, tl.DeadLettered, "crashes dead-letter nothing")
	assert.Zero(t, c.grepLogs("panic"), "no replica panicked")
	checkNoSecrets(t, c, rs.Client())
}

// chaos kills replica 1 twice (restarting it after a second) and restarts
// Redis once, at fixed shares of the load.
func chaos(t *testing.T, c *cluster, rs *redistest.Server, gen *loadGen, n int64) []string {
	var events []string
	at := func(share float64) {
		for gen.progress.Load() < int64(float64(n)*share) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	at(0.2)
	c.replicas[1].kill()
	events = append(events, fmt.Sprintf("replica 1 SIGKILL at %d", gen.progress.Load()))
	time.Sleep(time.Second)
	c.replicas[1].restart()
	at(0.45)
	events = append(events, fmt.Sprintf("redis restart at %d", gen.progress.Load()))
	if err := restartRedisGracefully(rs); err != nil {
		t.Errorf("restart redis: %v", err)
	}
	at(0.7)
	c.replicas[1].kill()
	events = append(events, fmt.Sprintf("replica 1 SIGKILL at %d", gen.progress.Load()))
	time.Sleep(time.Second)
	c.replicas[1].restart()
	return events
}

// restartRedisGracefully stops Redis with SHUTDOWN (the append-only file is
// flushed) and starts it again on the same port and data directory.
func restartRedisGracefully(rs *redistest.Server) error {
	cl := rs.Client()
	_ = cl.Shutdown(context.Background()).Err() // the connection drops: that is the point
	cl.Close()
	time.Sleep(300 * time.Millisecond)
	return rs.Restart()
}

// TestRedisKilledWithFsyncAlways: with appendfsync always, even Redis killed
// with SIGKILL under load loses no accepted signup.
func TestRedisKilledWithFsyncAlways(t *testing.T) {
	rs := redistest.StartT(t, redistest.StartOptions{AppendOnly: true, Args: []string{"--appendfsync", "always"}})
	ps, hubs := portals(5, 20001)
	c := startCluster(t, clusterOptions{replicas: 2, redisURL: "redis://" + rs.Addr + "/0", portals: ps})
	a := c.installAll(hubs, 501)
	srcs := a.createSources(10, hubs)
	gen := c.loadGen(srcs)
	const n = 4000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for gen.progress.Load() < n/2 {
			time.Sleep(5 * time.Millisecond)
		}
		require.NoError(t, rs.Restart()) // SIGKILL, then start on the same append-only file
	}()
	signups := gen.run("fsync", n, 16)
	<-done
	tl := a.settle(c.sim, signups, srcs, 45*time.Second, 2*time.Minute)
	t.Logf("redis SIGKILL with appendfsync always: %s", tl)
	assert.Zero(t, tl.Lost)
}
