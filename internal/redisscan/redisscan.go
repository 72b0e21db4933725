// Package redisscan walks the keys matching a pattern on one Redis or on
// every primary of a Redis Cluster (SCAN sees one node's keys only). Each
// package that owns a keyspace uses it to walk its own keys.
package redisscan

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Each calls fn for every key matching pattern, on every primary of a Redis
// Cluster or on the one Redis, and stops at fn's first error. On a cluster
// the primaries are walked at once: fn must be safe for concurrent use.
func Each(ctx context.Context, rdb redis.UniversalClient, pattern string, fn func(key string) error) error {
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, 1000).Iterator()
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

// Keys returns every key matching pattern (see Each).
func Keys(ctx context.Context, rdb redis.UniversalClient, pattern string) ([]string, error) {
	var mu sync.Mutex
	var keys []string
	err := Each(ctx, rdb, pattern, func(key string) error {
		mu.Lock()
		keys = append(keys, key)
		mu.Unlock()
		return nil
	})
	return keys, err
}
