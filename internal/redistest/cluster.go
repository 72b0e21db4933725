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
	// Every node must see the cluster ok: one that has not yet learnt the
	// others' slots answers CLUSTERDOWN to the keys it would redirect.
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range addrs {
		node := redis.NewClient(&redis.Options{Addr: addr})
		for {
			info, err := node.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				_ = node.Close()
				t.Fatalf("redistest: node %s did not reach cluster_state:ok in 20 s (last: %v)", addr, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = node.Close()
	}
	return addrs
}
