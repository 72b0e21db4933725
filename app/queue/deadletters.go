package queue

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Dead letters are read a page at a time, never all at once: a source may
// have very many, and every page costs what it shows.
const (
	// DefaultDeadPage is the size of a page of dead letters when none is
	// asked for; MaxDeadPage the largest one.
	DefaultDeadPage = 50
	MaxDeadPage     = 500
	// MaxReplay bounds how many dead letters one replay-all queues again;
	// the rest wait for the next one.
	MaxReplay = 5000
)

// DeadPage selects a page of dead letters: those after the cursor After
// (the Next of the previous page; "" for the first), at most Limit
// (DefaultDeadPage when 0, at most MaxDeadPage).
type DeadPage struct {
	After string
	Limit int
}

// deadPageScript returns up to n dead letters after the cursor (score,
// id) as {id, score, ...}: first the rest of the cursor's score, whose
// members Redis orders by id, then higher scores. KEYS: dead. ARGV: score
// ("-inf" for the first page), id ("" for the first page), n.
var deadPageScript = redis.NewScript(`
local out, n = {}, tonumber(ARGV[3])
local from = ARGV[1]
if ARGV[2] ~= '' then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[1], 'BYSCORE')) do
    if m > ARGV[2] and #out < 2 * n then
      out[#out + 1] = m
      out[#out + 1] = ARGV[1]
    end
  end
  from = '(' .. ARGV[1]
end
if #out < 2 * n then
  for _, v in ipairs(redis.call('ZRANGE', KEYS[1], from, '+inf', 'BYSCORE', 'LIMIT', 0, n - #out / 2, 'WITHSCORES')) do
    out[#out + 1] = v
  end
end
return out
`)

// deadRef is a dead letter's place: its portal, id and when it was
// dead-lettered (the index's score, ms).
type deadRef struct {
	hub   int64
	id    string
	score int64
}

// ErrBadCursor is a dead-letter cursor refhub did not hand out.
var ErrBadCursor = errors.New("the cursor is not one a previous page gave")

// DeadLetters returns a page of a source's dead-lettered events across
// hubs, oldest first, and the cursor of the next page ("" after the last).
// Dead letters are never trimmed: they stay until replayed or the portal
// is deleted.
func (q *Queue) DeadLetters(ctx context.Context, hubs []int64, src string, page DeadPage) ([]Event, string, error) {
	n := page.Limit
	if n <= 0 {
		n = DefaultDeadPage
	}
	n = min(n, MaxDeadPage)
	score, after := "-inf", ""
	if page.After != "" {
		ms, id, ok := strings.Cut(page.After, ":")
		if _, err := strconv.ParseInt(ms, 10, 64); !ok || err != nil || id == "" {
			return nil, "", ErrBadCursor
		}
		score, after = ms, id
	}
	var refs []deadRef
	for _, hub := range hubs {
		res, err := deadPageScript.Run(ctx, q.rdb, []string{deadKey(hub, src)}, score, after, n+1).StringSlice()
		if err != nil {
			return nil, "", fmt.Errorf("dead letters of portal %d: %w", hub, err)
		}
		for i := 0; i+1 < len(res); i += 2 {
			sc, _ := strconv.ParseFloat(res[i+1], 64)
			refs = append(refs, deadRef{hub: hub, id: res[i], score: int64(sc)})
		}
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].score != refs[j].score {
			return refs[i].score < refs[j].score
		}
		return refs[i].id < refs[j].id
	})
	next := ""
	if len(refs) > n {
		refs = refs[:n]
		last := refs[n-1]
		next = strconv.FormatInt(last.score, 10) + ":" + last.id
	}
	evs, err := q.load(ctx, refs)
	return evs, next, err
}

// load reads the events of refs, in their order, skipping missing ones.
func (q *Queue) load(ctx context.Context, refs []deadRef) ([]Event, error) {
	byHub := map[int64][]string{}
	for _, r := range refs {
		byHub[r.hub] = append(byHub[r.hub], r.id)
	}
	found := map[string]Event{}
	for hub, ids := range byHub {
		evs, err := q.events(ctx, hub, ids)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			found[ev.ID] = ev
		}
	}
	out := make([]Event, 0, len(refs))
	for _, r := range refs {
		if ev, ok := found[r.id]; ok {
			out = append(out, ev)
		}
	}
	return out, nil
}

// DeadCount returns how many dead letters a source has on a portal.
func (q *Queue) DeadCount(ctx context.Context, hub int64, src string) (int64, error) {
	return q.rdb.ZCard(ctx, deadKey(hub, src)).Result()
}

// replayScript moves one dead letter back onto the lane if it still is one.
// KEYS: dead, events, lane. ARGV: event id, json.
var replayScript = redis.NewScript(`
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[1])
return 1
`)

// Replay queues a source's dead letters again — those of ids, or, when ids
// is empty, the oldest MaxReplay — and returns how many were queued. Each
// keeps its original receive time, so an older signup never overwrites a
// newer one for the same email.
func (q *Queue) Replay(ctx context.Context, hubs []int64, src string, ids []string) (int, error) {
	if len(ids) > 0 {
		return q.replayIDs(ctx, hubs, src, ids)
	}
	n, cursor := 0, ""
	for n < MaxReplay {
		page, next, err := q.DeadLetters(ctx, hubs, src, DeadPage{After: cursor, Limit: min(MaxDeadPage, MaxReplay-n)})
		if err != nil {
			return n, err
		}
		m, err := q.replay(ctx, src, page)
		n += m
		if err != nil || next == "" {
			return n, err
		}
		cursor = next
	}
	return n, nil
}

// replayIDs replays the dead letters of ids found on hubs.
func (q *Queue) replayIDs(ctx context.Context, hubs []int64, src string, ids []string) (int, error) {
	var evs []Event
	for _, hub := range hubs {
		found, err := q.events(ctx, hub, ids)
		if err != nil {
			return 0, err
		}
		for _, ev := range found {
			if ev.SourceID == src {
				evs = append(evs, ev)
			}
		}
	}
	return q.replay(ctx, src, evs)
}

// replay moves evs back onto their lanes, each if it still is a dead
// letter of src.
func (q *Queue) replay(ctx context.Context, src string, evs []Event) (int, error) {
	n := 0
	for _, ev := range evs {
		if ev.Kind != "" {
			continue // not a signup: the room that recorded it replays it
		}
		ev.Status, ev.Replays, ev.UpdatedAt = Queued, ev.Replays+1, q.now().UTC()
		ev.Reason, ev.Fix, ev.Code, ev.Property = "", "", "", ""
		raw, err := ev.encode()
		if err != nil {
			return n, err
		}
		ok, err := replayScript.Run(ctx, q.rdb, []string{deadKey(ev.HubID, src), eventsKey(ev.HubID), laneKey(ev.HubID)}, ev.ID, raw).Int()
		if err != nil {
			return n, fmt.Errorf("replay %s: %w", ev.ID, err)
		}
		if ok == 1 {
			n++
			if err := q.Signal(ctx, ev.HubID); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
