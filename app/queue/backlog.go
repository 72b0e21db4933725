package queue

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/tenants"
)

// A portal's backlog is what refhub holds for it until someone acts: the
// signups waiting on its lane and its dead letters. Each portal counts
// them, in total and per source, in one hash in its slot, updated by the
// same scripts that queue, deliver and purge events — so the counts are
// exact without a scan, and quotas can be checked on every request.
//
// Fields: "n" and "b" (events and payload bytes of the portal), and
// "<source>:n" and "<source>:b".
func backlogKey(hub int64) string { return tenants.PortalKey(hub, "backlog") }

// Backlog is an amount of held signups: how many, and the bytes of their
// payloads (payload.Size).
type Backlog struct {
	Events int64 `json:"events"`
	Bytes  int64 `json:"bytes"`
}

// Backlog returns what the portals hold for source src, or for everyone
// when src is "". One pipelined round trip.
func (q *Queue) Backlog(ctx context.Context, hubs []int64, src string) (Backlog, error) {
	var b Backlog
	if len(hubs) == 0 {
		return b, nil
	}
	fields := []string{"n", "b"}
	if src != "" {
		fields = []string{src + ":n", src + ":b"}
	}
	cmds := make([]*redis.SliceCmd, len(hubs))
	_, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, hub := range hubs {
			cmds[i] = p.HMGet(ctx, backlogKey(hub), fields...)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return b, err
	}
	for _, c := range cmds {
		vals := c.Val()
		if len(vals) != 2 {
			continue
		}
		n, _ := vals[0].(string)
		by, _ := vals[1].(string)
		b.Events += atoi(n)
		b.Bytes += atoi(by)
	}
	return b, nil
}

// eventSize is what an event counts for in the backlog's bytes.
func eventSize(ev *Event) int { return payload.SizeOf(ev.Payload) }

// luaBacklog holds the Lua a script uses to change a backlog: add(key,
// src, n, b) adds to the source's and the portal's counts, never leaving
// one below zero (events queued before the counts existed are delivered
// without having been counted).
const luaBacklog = `
local function bump(key, field, by)
  if by == 0 then return end
  if redis.call('HINCRBY', key, field, by) < 0 then redis.call('HSET', key, field, 0) end
end
local function add(key, src, n, b)
  bump(key, src .. ':n', n)
  bump(key, src .. ':b', b)
  bump(key, 'n', n)
  bump(key, 'b', b)
end
`

// forgetSourceScript removes a source's counts from a portal's backlog.
// KEYS: backlog. ARGV: source id.
var forgetSourceScript = redis.NewScript(luaBacklog + `
local n = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. ':n') or '0')
local b = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. ':b') or '0')
add(KEYS[1], ARGV[1], -n, -b)
redis.call('HDEL', KEYS[1], ARGV[1] .. ':n', ARGV[1] .. ':b')
return 1
`)
