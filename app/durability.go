package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// RedisDurability is what refhub learned at start about whether its Redis
// keeps accepted signups: across a restart (AOF or RDB snapshots) and when
// memory runs out (no eviction). Queued signups live only in Redis, and
// Referral Factory does not send a webhook twice.
type RedisDurability struct {
	Problems  []DurabilityProblem
	Unchecked []string // what could not be read, and why (e.g. CONFIG disabled on a managed Redis)
}

// DurabilityProblem is one setting under which accepted signups can be lost.
type DurabilityProblem struct {
	Node    string // the node's address when Redis Cluster has several
	Setting string // e.g. "maxmemory-policy"
	Value   string // what it is now
	Risk    string // what can be lost, in plain words
	Fix     string // what to change
}

func (p DurabilityProblem) String() string {
	node := ""
	if p.Node != "" {
		node = " on " + p.Node
	}
	return fmt.Sprintf("%s is %s%s: %s; fix: %s", p.Setting, p.Value, node, p.Risk, p.Fix)
}

// ErrRedisNotDurable is returned by Run when REFHUB_REQUIRE_DURABLE_REDIS is
// set and Redis can lose queued signups.
var ErrRedisNotDurable = errors.New("redis can lose queued signups")

// CheckRedisDurability reads Redis's persistence and eviction settings (CONFIG
// GET; INFO where CONFIG is disabled, as on most managed Redis), logs a
// warning naming each risky setting and its fix, and keeps the result for
// RedisDurability. With REFHUB_REQUIRE_DURABLE_REDIS=true a risky setting is
// an error; what could not be read never is (it is logged as such).
func (a *App) CheckRedisDurability(ctx context.Context) (RedisDurability, error) {
	var d RedisDurability
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
	if cc, ok := a.rdb.(*redis.ClusterClient); ok {
		// Every primary holds a share of the lanes: each must keep its data.
		if err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			return check(ctx, c.Options().Addr, c)
		}); err != nil {
			d.Unchecked = append(d.Unchecked, "the cluster's primaries could not be listed: "+err.Error())
		}
	} else {
		_ = check(ctx, "", a.rdb)
	}
	a.durability.Store(&d)
	for _, p := range d.Problems {
		a.log.Warn("Redis can lose queued signups", slog.String("setting", p.Setting), slog.String("value", p.Value),
			slog.String("node", p.Node), slog.String("risk", p.Risk), slog.String("fix", p.Fix))
	}
	for _, u := range d.Unchecked {
		a.log.Info("could not check Redis durability: make sure your Redis keeps its data (AOF or snapshots) and evicts nothing",
			slog.String("unchecked", u))
	}
	if len(d.Problems) > 0 && a.cfg.RequireDurableRedis {
		var lines []string
		for _, p := range d.Problems {
			lines = append(lines, p.String())
		}
		return d, fmt.Errorf("%w (REFHUB_REQUIRE_DURABLE_REDIS=true refuses to start):\n  %s", ErrRedisNotDurable,
			strings.Join(lines, "\n  "))
	}
	return d, nil
}

// RedisDurability returns what the last durability check found (nothing
// before the first check).
func (a *App) RedisDurability() RedisDurability {
	if d := a.durability.Load(); d != nil {
		return *d
	}
	return RedisDurability{}
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
func checkNode(ctx context.Context, c redis.Cmdable) RedisDurability {
	var d RedisDurability
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
		d.Problems = append(d.Problems, DurabilityProblem{Setting: "appendonly", Value: `no and save is ""`,
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
		d.Problems = append(d.Problems, DurabilityProblem{Setting: "maxmemory-policy", Value: policy,
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
