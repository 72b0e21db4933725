package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/internal/redisscan"
	"github.com/refhub/refhub/tenants"
)

// forgetScript removes one event: its record, its place in the source's
// activity, dead letters and refused requests, and what it counted in the
// backlog (while queued or dead-lettered). Its lane entry, if any, is
// dropped by the worker that meets it (Item.Missing): the event is never
// sent. KEYS: events, activity, dead, refused, backlog. ARGV: id, source,
// held (1/0), size.
var forgetScript = redis.NewScript(luaBacklog + `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if ARGV[3] == '1' then add(KEYS[5], ARGV[2], -1, -tonumber(ARGV[4])) end
return 1
`)

// Forget deletes every event of a portal that match says is about a
// person — delivered, queued (so never sent), dead-lettered or refused —
// with the marks that name them (forgetMarks), and returns the events it
// deleted (for the caller to find what else they name).
func (q *Queue) Forget(ctx context.Context, hub int64, match func(*Event) bool) ([]Event, error) {
	var gone []Event
	cursor := uint64(0)
	for {
		kv, next, err := q.rdb.HScan(ctx, eventsKey(hub), cursor, "", 500).Result()
		if err != nil {
			return gone, fmt.Errorf("forget in portal %d: %w", hub, err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			var ev Event
			if json.Unmarshal([]byte(kv[i+1]), &ev) != nil || !match(&ev) {
				continue
			}
			held := "0"
			if ev.Kind == "" && (ev.Status == Queued || ev.Status == Failed) {
				held = "1"
			}
			keys := []string{eventsKey(hub), activityKey(hub, ev.SourceID), deadKey(hub, ev.SourceID),
				refusedKey(hub, ev.SourceID), backlogKey(hub)}
			if err := forgetScript.Run(ctx, q.rdb, keys, ev.ID, ev.SourceID, held, ev.Size).Err(); err != nil {
				return gone, fmt.Errorf("forget event %s: %w", ev.ID, err)
			}
			gone = append(gone, ev)
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(gone) == 0 {
		return nil, nil
	}
	return gone, q.forgetMarks(ctx, hub, gone)
}

// forgetMarks deletes what else names the deleted events' people: the
// lane's high-water mark of their email, the source's record that it
// delivered them (a hash of the email), and the dedupe markers of their
// bodies (each the hash of a body that held their data).
func (q *Queue) forgetMarks(ctx context.Context, hub int64, gone []Event) error {
	ids := make(map[string]bool, len(gone))
	pipe := q.rdb.Pipeline()
	for _, ev := range gone {
		ids[ev.ID] = true
		if ev.Email != "" {
			pipe.HDel(ctx, hwmKey(hub), ev.Email)
			pipe.HDel(ctx, sentKey(hub, ev.SourceID), EmailHash(ev.Email))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	return redisscan.Each(ctx, q.rdb, tenants.PortalKey(hub, "seen:*"), func(key string) error {
		v, err := q.rdb.Get(ctx, key).Result()
		if err == nil && ids[v] {
			return q.rdb.Del(ctx, key).Err()
		}
		if errors.Is(err, redis.Nil) {
			return nil
		}
		return err
	})
}
