package tenants

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/refhub/refhub/internal/redisscan"
)

// ResealSources re-encrypts every source's webhook token and shared secret
// with the vault's primary key (see ResealSource) and returns how many
// sources it rewrote. It walks this package's own keys, sourceKey's.
func (s *RedisStore) ResealSources(ctx context.Context) (int, error) {
	var n atomic.Int64
	err := redisscan.Each(ctx, s.rdb, sourceKey("*"), func(key string) error {
		id := strings.TrimSuffix(strings.TrimPrefix(key, "{s:"), "}")
		if strings.ContainsAny(id, "{}:") || sourceKey(id) != key {
			return nil // not a source record
		}
		n.Add(1)
		return s.ResealSource(ctx, id)
	})
	return int(n.Load()), err
}
