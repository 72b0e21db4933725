package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// headScript returns up to n items at the head of a lane with their event
// records: {stream id, json or false, ...}.
// KEYS: lane, events. ARGV: n.
var headScript = redis.NewScript(`
local entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', tonumber(ARGV[1]))
local out = {}
for _, e in ipairs(entries) do
  local id = e[2][2]
  out[#out + 1] = e[1]
  out[#out + 1] = redis.call('HGET', KEYS[2], id) or false
end
return out
`)

// Head returns up to n events waiting at the head of a portal's lane, in
// arrival order.
func (q *Queue) Head(ctx context.Context, hub int64, n int) ([]Item, error) {
	res, err := headScript.Run(ctx, q.rdb, []string{laneKey(hub), eventsKey(hub)}, n).Slice()
	if err != nil {
		return nil, fmt.Errorf("read lane of portal %d: %w", hub, err)
	}
	items := make([]Item, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		it := Item{StreamID: res[i].(string)}
		raw, ok := res[i+1].(string)
		if !ok {
			it.Missing = true
		} else if err := json.Unmarshal([]byte(raw), &it.Event); err != nil {
			return nil, fmt.Errorf("portal %d: event at %s: %w", hub, it.StreamID, err)
		}
		items = append(items, it)
	}
	return items, nil
}

// Update is a new state of an event at the head of a lane.
type Update struct {
	StreamID string // lane entry; removed unless the event stays Queued
	Event    Event
}

// finishScript stores new event states, removes finished entries from the
// lane, indexes dead letters, tracks the newest delivered signup per email
// for emails that ever failed, counts outcomes, and takes delivered events
// out of the backlog (a dead letter stays in it until replayed and
// delivered, or deleted).
// It also records, per source, whom it delivered (the newest delivered
// copy's time) or dead-lettered (0), by email hash: what a reconcile
// compares Referral Factory's users with, and what an older copy read from
// Referral Factory's API is superseded by.
// KEYS: lane, events, stats, hwm, backlog, then dead and sent keys... ARGV:
// now ms, stats ttl ms, then per update: stream id, event id, json, status,
// dead key index (0 = none), email, time ms (Event.Time), source id, size,
// failed at ms (the dead-letter index's order: oldest failure first), sent
// key index (0 = none), email hash.
var finishScript = redis.NewScript(luaBacklog + `
-- Mark the emails that fail first, so that a newer signup delivered in the
-- same call is tracked whatever the order of the updates.
for j = 3, #ARGV, 12 do
  if tonumber(ARGV[j+4]) > 0 then redis.call('HSETNX', KEYS[4], ARGV[j+5], 0) end
end
local i = 3
while i <= #ARGV do
  local sid, id, js, status, dk, email, recv, src = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], tonumber(ARGV[i+4]), ARGV[i+5], tonumber(ARGV[i+6]), ARGV[i+7]
  local sk, eh = tonumber(ARGV[i+10]), ARGV[i+11]
  if sk > 0 then
    if status == 'delivered' then
      local h = redis.call('HGET', KEYS[sk], eh)
      if (not h) or tonumber(h) < recv then redis.call('HSET', KEYS[sk], eh, recv) end
    elseif status == 'failed' then
      redis.call('HSETNX', KEYS[sk], eh, 0)
    end
  end
  redis.call('HSET', KEYS[2], id, js)
  if status ~= 'queued' and sid ~= '' then
    redis.call('XDEL', KEYS[1], sid)
    redis.call('HINCRBY', KEYS[3], status, 1)
    redis.call('HINCRBY', KEYS[3], src .. ':' .. status, 1)
    if status == 'delivered' or status == 'not_sent' then add(KEYS[5], src, -1, -tonumber(ARGV[i+8])) end
  end
  if dk > 0 then
    redis.call('ZADD', KEYS[dk], 'NX', ARGV[i+9], id)
  elseif status == 'delivered' then
    local h = redis.call('HGET', KEYS[4], email)
    if h and tonumber(h) < recv then redis.call('HSET', KEYS[4], email, recv) end
  end
  i = i + 12
end
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return 1
`)

// Finish records the outcome of events taken from a portal's lane in one
// atomic step: a delivered, not sent or failed event leaves the lane, a failed one is
// indexed as a dead letter of its source, a queued one stays (retrying).
func (q *Queue) Finish(ctx context.Context, hub int64, updates []Update) error {
	if len(updates) == 0 {
		return nil
	}
	now := q.now()
	keys := []string{laneKey(hub), eventsKey(hub), statsKey(hub, now), hwmKey(hub), backlogKey(hub)}
	keyIdx := map[string]int{}
	index := func(k string) int { // a key's position in KEYS, added once
		if keyIdx[k] == 0 {
			keys = append(keys, k)
			keyIdx[k] = len(keys)
		}
		return keyIdx[k]
	}
	args := []any{now.UnixMilli(), statsTTL.Milliseconds()}
	for _, u := range updates {
		ev := u.Event
		ev.UpdatedAt = now.UTC()
		raw, err := ev.encode()
		if err != nil {
			return err
		}
		dk, sk := 0, 0
		if ev.Status == Failed {
			dk = index(deadKey(hub, ev.SourceID))
		}
		if (ev.Status == Failed || ev.Status == Delivered) && ev.Email != "" && u.StreamID != "" {
			sk = index(sentKey(hub, ev.SourceID))
		}
		args = append(args, u.StreamID, ev.ID, raw, string(ev.Status), dk, ev.Email, ev.Time().UnixMilli(), ev.SourceID, ev.Size,
			failedAt(ev).UnixMilli(), sk, EmailHash(ev.Email))
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := finishScript.Run(ctx, q.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("record outcomes for portal %d: %w", hub, err)
	}
	return nil
}

// Superseded returns the events (by id) for whose email a newer signup was
// delivered already. For a replay, only emails that once failed are tracked
// (in the lane, order is kept by construction; only a replay can bring an
// older signup after a newer one). A copy read from Referral Factory's API
// (Origin set) is older than a webhook of the same person received since:
// it is checked against every copy its source delivered.
func (q *Queue) Superseded(ctx context.Context, hub int64, events []Event) (map[string]bool, error) {
	if len(events) == 0 {
		return nil, nil
	}
	emails := make([]string, len(events))
	pipe := q.rdb.Pipeline()
	sent := make([]*redis.StringCmd, len(events))
	for i, ev := range events {
		emails[i] = ev.Email
		if ev.Origin != "" {
			sent[i] = pipe.HGet(ctx, sentKey(hub, ev.SourceID), EmailHash(ev.Email))
		}
	}
	hwm := pipe.HMGet(ctx, hwmKey(hub), emails...)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	newer := func(v any, ev Event) bool {
		s, _ := v.(string)
		ms, err := strconv.ParseInt(s, 10, 64)
		return err == nil && ms > ev.Time().UnixMilli()
	}
	out := map[string]bool{}
	for i, v := range hwm.Val() {
		if newer(v, events[i]) || (sent[i] != nil && newer(sent[i].Val(), events[i])) {
			out[events[i].ID] = true
		}
	}
	return out, nil
}

// Known returns which of the email hashes (EmailHash) source src delivered
// or dead-lettered at portal hub: what a reconcile need not send again.
func (q *Queue) Known(ctx context.Context, hub int64, src string, hashes []string) ([]bool, error) {
	out := make([]bool, len(hashes))
	if len(hashes) == 0 {
		return out, nil
	}
	vals, err := q.rdb.HMGet(ctx, sentKey(hub, src), hashes...).Result()
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		out[i] = v != nil
	}
	return out, nil
}

// RetryState is a lane's run of consecutive failed attempts.
type RetryState struct {
	Attempts     int       `json:"attempts"`
	FirstFailure time.Time `json:"first_failure"`
	LastError    string    `json:"last_error"`
}

// Retry returns a lane's retry state (zero if its last attempt succeeded).
func (q *Queue) Retry(ctx context.Context, hub int64) (RetryState, error) {
	raw, err := q.rdb.Get(ctx, retryKey(hub)).Bytes()
	if errors.Is(err, redis.Nil) {
		return RetryState{}, nil
	}
	if err != nil {
		return RetryState{}, err
	}
	var s RetryState
	return s, json.Unmarshal(raw, &s)
}

// SetRetry stores a lane's retry state; a zero state clears it.
func (q *Queue) SetRetry(ctx context.Context, hub int64, s RetryState) error {
	if s.Attempts == 0 {
		return q.rdb.Del(ctx, retryKey(hub)).Err()
	}
	raw, _ := json.Marshal(s)
	return q.rdb.Set(ctx, retryKey(hub), raw, 7*24*time.Hour).Err()
}

// Filter selects activity.
type Filter struct {
	Status Status    // empty: any
	Email  string    // substring, case-insensitive; empty: any
	Before time.Time // only events received before (paging); zero: now
	Limit  int       // default 50, at most 500
}

// scanLimit bounds how many recent events a filtered activity query reads.
const scanLimit = 5000

// Activity returns a source's events across the portals it sends to,
// newest first.
func (q *Queue) Activity(ctx context.Context, hubs []int64, src string, f Filter) ([]Event, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	max := "+inf"
	if !f.Before.IsZero() {
		max = "(" + strconv.FormatInt(f.Before.UnixMilli(), 10)
	}
	want := int64(f.Limit)
	if f.Status != "" || f.Email != "" {
		want = scanLimit
	}
	var all []Event
	for _, hub := range hubs {
		ids, err := q.rdb.ZRevRangeByScore(ctx, activityKey(hub, src), &redis.ZRangeBy{Max: max, Min: "-inf", Count: want}).Result()
		if err != nil {
			return nil, err
		}
		evs, err := q.events(ctx, hub, ids)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			if matches(ev, f) {
				all = append(all, ev)
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].ReceivedAt.After(all[j].ReceivedAt) })
	if len(all) > f.Limit {
		all = all[:f.Limit]
	}
	return all, nil
}

func matches(ev Event, f Filter) bool {
	if f.Status != "" && ev.Status != f.Status {
		return false
	}
	return f.Email == "" || strings.Contains(ev.Email, strings.ToLower(strings.TrimSpace(f.Email)))
}

func (q *Queue) events(ctx context.Context, hub int64, ids []string) ([]Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := q.rdb.HMGet(ctx, eventsKey(hub), ids...).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(vals))
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var ev Event
		if err := json.Unmarshal([]byte(s), &ev); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// failedAt orders dead letters: when the event first failed (a batch is
// retried before it is dead-lettered), or when it was recorded.
func failedAt(ev Event) time.Time {
	if ev.FirstFailure != nil {
		return *ev.FirstFailure
	}
	return ev.UpdatedAt
}
