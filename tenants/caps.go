package tenants

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Caps bound what one workspace may create; 0 is no cap.
type Caps struct {
	Sources   int
	APITokens int
}

// SetCaps sets the caps of every workspace (none until set).
func (s *RedisStore) SetCaps(c Caps) { s.caps = c }

// CapError is a creation refused because the workspace is at a cap.
type CapError struct {
	What string // "sources" or "API tokens"
	Max  int
}

func (e *CapError) Error() string {
	return fmt.Sprintf("the workspace has %d %s, the most it may have", e.Max, e.What)
}

// addCappedScript adds a member to a workspace's index unless the index
// holds max members already (0: no cap); it returns 1 when added.
// KEYS: index (a sorted set, or a hash when ARGV[1] is "hash").
// ARGV: kind, max, score or hash value, member.
var addCappedScript = redis.NewScript(`
local n
if ARGV[1] == 'hash' then n = redis.call('HLEN', KEYS[1]) else n = redis.call('ZCARD', KEYS[1]) end
local max = tonumber(ARGV[2])
if max > 0 and n >= max then return 0 end
if ARGV[1] == 'hash' then redis.call('HSET', KEYS[1], ARGV[4], ARGV[3])
else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4]) end
return 1
`)

// addCapped adds member to a capped index, atomically: of concurrent
// creations at the cap, one at most gets the last place.
func (s *RedisStore) addCapped(ctx context.Context, index, kind string, max int, value any, member, what string) error {
	added, err := addCappedScript.Run(ctx, s.rdb, []string{index}, kind, strconv.Itoa(max), value, member).Int()
	if err != nil {
		return fmt.Errorf("add to %s: %w", index, err)
	}
	if added == 0 {
		return &CapError{What: what, Max: max}
	}
	return nil
}

// LooksLikeSecret reports whether s has the shape of a NewSecret value
// (43 base64url characters), so a webhook URL that cannot be one is
// answered without a lookup.
func LooksLikeSecret(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
