package redisconn

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Durability is what refhub learned about whether its Redis keeps accepted
// signups: across a restart (AOF or RDB snapshots) and when memory runs
// out (no eviction). Queued signups live only in Redis, and Referral
// Factory does not send a webhook twice.
type Durability struct {
	Problems  []Problem
	Unchecked []string // what could not be read, and why (e.g. CONFIG disabled on a managed Redis)
}

// Problem is one setting under which accepted signups can be lost.
type Problem struct {
	Node    string // the node's address when Redis Cluster has several
	Setting string // e.g. "maxmemory-policy"
	Value   string // what it is now
	Risk    string // what can be lost, in plain words
	Fix     string // what to change
}

func (p Problem) String() string {
	node := ""
	if p.Node != "" {
		node = " on " + p.Node
	}
	return fmt.Sprintf("%s is %s%s: %s; fix: %s", p.Setting, p.Value, node, p.Risk, p.Fix)
}

// CheckDurability reads Redis's persistence and eviction settings (CONFIG
// GET; INFO where CONFIG is disabled, as on most managed Redis) on the one
// Redis or on every primary of a cluster. What could not be read is said
// in Unchecked, never an error.
func CheckDurability(ctx context.Context, rdb redis.UniversalClient) Durability {
	var d Durability
	var mu sync.Mutex
	check := func(ctx context.Context, node string, c redis.Cmdable) error {
		n := checkNode(ctx, c)
		mu.Lock()
		defer mu.Unlock()
		for _, p := range n.Problems {
			p.Node = node
			d.Problems = append(d.Problems, p)
		}
		for _, u := range n.Unchecked {
			if node != "" {
				u += " (" + node + ")"
			}
			d.Unchecked = append(d.Unchecked, u)
		}
		return nil
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		// Every primary holds a share of the lanes: each must keep its data.
		if err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			return check(ctx, c.Options().Addr, c)
		}); err != nil {
			d.Unchecked = append(d.Unchecked, "the cluster's primaries could not be listed: "+err.Error())
		}
	} else {
		_ = check(ctx, "", rdb)
	}
	return d
}

// Why each setting matters and how to fix it, once for every node.
const (
	persistenceRisk = "Nothing is written to disk, so a Redis restart loses every queued signup, token and setting"
	persistenceFix  = "CONFIG SET appendonly yes and CONFIG SET appendfsync everysec, then CONFIG REWRITE (or appendonly yes in redis.conf)"
	evictionRisk    = "A full Redis deletes keys to make room, queued signups and tokens among them"
	evictionFix     = "CONFIG SET maxmemory-policy noeviction, then CONFIG REWRITE (or maxmemory-policy noeviction in redis.conf)"
)

// checkNode reads one node's settings: CONFIG GET, or INFO where CONFIG is
// disabled (INFO shows whether AOF is on and the eviction policy, but not
// whether RDB snapshots are configured).
func checkNode(ctx context.Context, c redis.Cmdable) Durability {
	var d Durability
	settings := map[string]string{}
	var configErr error
	for _, name := range []string{"appendonly", "save", "maxmemory-policy"} {
		vals, err := c.ConfigGet(ctx, name).Result()
		if err != nil {
			configErr = err
			break
		}
		if v, ok := vals[name]; ok {
			settings[name] = v
		}
	}
	if configErr != nil || len(settings) < 3 {
		settings = infoSettings(ctx, c, settings)
	}
	appendonly, hasAOF := settings["appendonly"]
	save, hasSave := settings["save"]
	switch {
	case hasAOF && appendonly == "yes":
	case hasAOF && hasSave && strings.TrimSpace(save) == "":
		d.Problems = append(d.Problems, Problem{Setting: "appendonly", Value: `no and save is ""`,
			Risk: persistenceRisk, Fix: persistenceFix})
	case hasAOF && hasSave:
	case hasAOF:
		d.Unchecked = append(d.Unchecked, "persistence: AOF is off, and "+why("whether RDB snapshots are taken", configErr))
	default:
		d.Unchecked = append(d.Unchecked, "persistence: "+why("the AOF and RDB snapshot settings", configErr))
	}
	switch policy, ok := settings["maxmemory-policy"]; {
	case !ok:
		d.Unchecked = append(d.Unchecked, "eviction: "+why("maxmemory-policy", configErr))
	case policy != "noeviction":
		d.Problems = append(d.Problems, Problem{Setting: "maxmemory-policy", Value: policy,
			Risk: evictionRisk, Fix: evictionFix})
	}
	return d
}

// infoSettings fills what CONFIG GET did not give from INFO persistence and
// INFO memory.
func infoSettings(ctx context.Context, c redis.Cmdable, have map[string]string) map[string]string {
	fill := func(name, v string) {
		if _, done := have[name]; !done && v != "" {
			have[name] = v
		}
	}
	for _, section := range []string{"persistence", "memory"} {
		info, err := c.Info(ctx, section).Result()
		if err != nil {
			continue
		}
		for _, line := range strings.Split(info, "\n") {
			switch k, v, _ := strings.Cut(strings.TrimSpace(line), ":"); k {
			case "aof_enabled":
				fill("appendonly", map[string]string{"1": "yes", "0": "no"}[v])
			case "maxmemory_policy":
				fill("maxmemory-policy", v)
			}
		}
	}
	return have
}

func why(what string, configErr error) string {
	if configErr != nil {
		return what + " cannot be read here (CONFIG GET: " + configErr.Error() + ")"
	}
	return what + " cannot be read here"
}
