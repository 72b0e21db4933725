package app

import (
	"context"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ResealReport counts what Reseal rewrote.
type ResealReport struct {
	Portals, Sources int
}

// Reseal re-encrypts every stored secret — portal tokens, webhook tokens
// and shared secrets — with the primary key of REFHUB_ENCRYPTION_KEYS, so
// older keys can then be removed from it.
func (a *App) Reseal(ctx context.Context) (ResealReport, error) {
	var r ResealReport
	err := scanKeys(ctx, a.rdb, "{p:*}:oauth", func(key string) error {
		hub, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(key, "{p:"), "}:oauth"), 10, 64)
		if err != nil {
			return nil
		}
		done, err := a.tokens.Reseal(ctx, hub)
		if done {
			r.Portals++
		}
		return err
	})
	if err != nil {
		return r, err
	}
	err = scanKeys(ctx, a.rdb, "{s:*}", func(key string) error {
		id := strings.TrimSuffix(strings.TrimPrefix(key, "{s:"), "}")
		if strings.ContainsAny(id, "{}:") {
			return nil // not a source record
		}
		r.Sources++
		return a.store.ResealSource(ctx, id)
	})
	return r, err
}

// scanKeys calls fn for every key matching pattern, on every primary of a
// Redis Cluster or on the one Redis.
func scanKeys(ctx context.Context, rdb redis.UniversalClient, pattern string, fn func(string) error) error {
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, 500).Iterator()
		for it.Next(ctx) {
			if err := fn(it.Val()); err != nil {
				return err
			}
		}
		return it.Err()
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	}
	return scan(ctx, rdb)
}
