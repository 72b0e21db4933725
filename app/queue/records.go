package queue

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// recordScript stores a record that is not a signup in the source's
// activity, and in its dead letters while it has failed.
// KEYS: events, activity, dead, sources. ARGV: id, json, received ms,
// failed (1/0), dead-lettered ms, source id.
var recordScript = redis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
end
redis.call('SADD', KEYS[4], ARGV[6])
return 1
`)

// Record stores (or updates) an activity record that is not a signup — a
// qualification — under its source and portal: in the activity, and in the
// dead letters while its Status is Failed. Such records never go on a lane
// and Replay leaves them to the room that made them.
func (q *Queue) Record(ctx context.Context, ev *Event) error {
	if ev.Kind == "" {
		return errors.New("queue: Record is for records that are not signups")
	}
	raw, err := ev.encode()
	if err != nil {
		return err
	}
	failed := "0"
	if ev.Status == Failed {
		failed = "1"
	}
	keys := []string{eventsKey(ev.HubID), activityKey(ev.HubID, ev.SourceID), deadKey(ev.HubID, ev.SourceID), sourcesKey(ev.HubID)}
	return recordScript.Run(ctx, q.rdb, keys, ev.ID, raw, ev.ReceivedAt.UnixMilli(), failed,
		q.now().UnixMilli(), ev.SourceID).Err()
}
