// Package redisconn is refhub's connection to Redis: reading
// REFHUB_REDIS_URL (one server or a cluster), dialing it, and checking at
// start that it keeps what it is given (CheckDurability): queued signups
// live only there.
package redisconn

import (
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Options reads REFHUB_REDIS_URL: one redis:// or rediss:// URL, or for
// Redis Cluster (cluster true) a comma-separated list of node URLs.
func Options(rawURL string, cluster bool) (*redis.UniversalOptions, error) {
	urls := strings.Split(rawURL, ",")
	if !cluster && len(urls) > 1 {
		return nil, errors.New("several URLs are given: set REFHUB_REDIS_CLUSTER=true for Redis Cluster")
	}
	var uo redis.UniversalOptions
	for i, u := range urls {
		o, err := redis.ParseURL(strings.TrimSpace(u))
		if err != nil {
			return nil, errors.New("want redis://[user:password@]host:port[/db] or rediss://…: " + err.Error())
		}
		if cluster && o.DB != 0 {
			return nil, errors.New("Redis Cluster has only database 0")
		}
		uo.Addrs = append(uo.Addrs, o.Addr)
		if i == 0 {
			uo.DB, uo.Username, uo.Password, uo.TLSConfig = o.DB, o.Username, o.Password, o.TLSConfig
		}
	}
	uo.IsClusterMode = cluster
	return &uo, nil
}

// Dial connects to the Redis that REFHUB_REDIS_URL names.
func Dial(rawURL string, cluster bool) (redis.UniversalClient, error) {
	o, err := Options(rawURL, cluster)
	if err != nil {
		return nil, err
	}
	o.PoolSize = 64
	return redis.NewUniversalClient(o), nil
}
