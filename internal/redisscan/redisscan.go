// Package redisscan walks the keys matching a pattern on one Redis or on
// every primary of a Redis Cluster (SCAN sees one node's keys only). Each
// package that owns a keyspace uses it to walk its own keys.
package redisscan

import (
	"context"
	"fmt"
	"strings"
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

// Holding returns every key whose name, or any member, field or value,
// holds s (case-insensitive): what tests of deletions look for.
func Holding(ctx context.Context, rdb redis.UniversalClient, s string) ([]string, error) {
	s = strings.ToLower(s)
	var mu sync.Mutex
	var hits []string
	err := Each(ctx, rdb, "*", func(key string) error {
		vals := []string{key}
		switch rdb.Type(ctx, key).Val() {
		case "string":
			vals = append(vals, rdb.Get(ctx, key).Val())
		case "hash":
			for k, v := range rdb.HGetAll(ctx, key).Val() {
				vals = append(vals, k, v)
			}
		case "list":
			vals = append(vals, rdb.LRange(ctx, key, 0, -1).Val()...)
		case "set":
			vals = append(vals, rdb.SMembers(ctx, key).Val()...)
		case "zset":
			vals = append(vals, rdb.ZRange(ctx, key, 0, -1).Val()...)
		case "stream":
			for _, m := range rdb.XRange(ctx, key, "-", "+").Val() {
				for k, v := range m.Values {
					vals = append(vals, k, fmt.Sprint(v))
				}
			}
		}
		for _, v := range vals {
			if strings.Contains(strings.ToLower(v), s) {
				mu.Lock()
				hits = append(hits, key)
				mu.Unlock()
				break
			}
		}
		return nil
	})
	return hits, err
}
