package leads

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Pending links: a lead whose referrer refhub has not delivered yet waits,
// under each identity key it names its referrer by, until a delivered
// contact carries one of them. They survive restarts (Redis); a link made
// removes every trace of the wait; at most MaxPending wait per portal.
// Only the holder of the portal's lane writes them (delivery), so the steps
// below need no transaction against each other.

// addPending records that leads wait for their referrers.
func (s *Service) addPending(ctx context.Context, hub int64, waits map[string][]string) error {
	if len(waits) == 0 {
		return nil
	}
	now := s.now().UnixMilli()
	pipe := s.rdb.Pipeline()
	for lead, keys := range waits {
		b, _ := json.Marshal(pendingLink{Keys: keys, At: now})
		pipe.HSet(ctx, pendKey(hub), lead, b)
		pipe.ZAddNX(ctx, pendAgeKey(hub), redis.Z{Score: float64(now), Member: lead})
		for _, k := range keys {
			pipe.ZAdd(ctx, pendIdxKey(hub), redis.Z{Member: k + sep + lead})
		}
	}
	card := pipe.ZCard(ctx, pendAgeKey(hub))
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	over := card.Val() - s.maxPending
	if over <= 0 {
		return nil
	}
	oldest, err := s.rdb.ZPopMin(ctx, pendAgeKey(hub), over).Result()
	if err != nil {
		return err
	}
	gone := make([]string, len(oldest))
	for i, z := range oldest {
		gone[i] = z.Member.(string)
	}
	return s.dropPending(ctx, hub, gone)
}

// waiting is a lead waiting for the referrer named by key.
type waiting struct{ lead, key string }

// waitingFor returns the leads waiting for a referrer named by one of keys.
func (s *Service) waitingFor(ctx context.Context, hub int64, keys []string) ([]waiting, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(keys))
	for i, k := range keys {
		// Members are "key \x1f lead"; \x20 follows \x1f, so this range is
		// exactly the members of key.
		cmds[i] = pipe.ZRangeByLex(ctx, pendIdxKey(hub), &redis.ZRangeBy{Min: "[" + k + sep, Max: "(" + k + "\x20", Count: MaxPending})
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	seen := map[string]bool{}
	var out []waiting
	for i, c := range cmds {
		for _, m := range c.Val() {
			lead := m[strings.LastIndex(m, sep)+len(sep):]
			if !seen[lead] {
				seen[lead] = true
				out = append(out, waiting{lead: lead, key: keys[i]})
			}
		}
	}
	return out, nil
}

// dropPending removes every trace of the leads' waits.
func (s *Service) dropPending(ctx context.Context, hub int64, leads []string) error {
	if len(leads) == 0 {
		return nil
	}
	raws, err := s.rdb.HMGet(ctx, pendKey(hub), leads...).Result()
	if err != nil {
		return err
	}
	pipe := s.rdb.Pipeline()
	for i, lead := range leads {
		if raw, ok := raws[i].(string); ok {
			var p pendingLink
			if json.Unmarshal([]byte(raw), &p) == nil {
				for _, k := range p.Keys {
					pipe.ZRem(ctx, pendIdxKey(hub), k+sep+lead)
				}
			}
		}
		pipe.HDel(ctx, pendKey(hub), lead)
		pipe.ZRem(ctx, pendAgeKey(hub), lead)
	}
	_, err = pipe.Exec(ctx)
	return err
}

// Pending returns how many leads of the portal wait for their referrer.
func (s *Service) Pending(ctx context.Context, hub int64) (int64, error) {
	return s.rdb.HLen(ctx, pendKey(hub)).Result()
}
