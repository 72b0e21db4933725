package redistest

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartClusterT starts a Redis Cluster of one primary per StartOptions (no
// replicas), each a dedicated cluster-enabled redis-server on loopback,
// joined with redis-cli --cluster create; everything is removed when the
// test ends. It returns the nodes' addresses once the cluster state is ok.
func StartClusterT(t testing.TB, nodes ...StartOptions) []string {
	t.Helper()
	var addrs []string
	for _, o := range nodes {
		o.Args = append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000"}, o.Args...)
		addrs = append(addrs, StartT(t, o).Addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v: %s", err, out)
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer rdb.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := rdb.ClusterInfo(context.Background()).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return addrs
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: the cluster did not reach cluster_state:ok in 20 s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
