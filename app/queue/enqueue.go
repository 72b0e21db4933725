package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// enqueueScript stores a portal's events and appends them to its lane, in
// order, each unless the same body was received for its source within the
// dedupe window. It returns {fresh (1) or duplicate (0), event id} per
// event, the id being the first event's for a duplicate. The final state is
// what storing the events one by one would leave; repeated indexes and
// counters are written once per call.
// KEYS: events, lane, sources, backlog, then per event: seen, activity, stats.
// ARGV: dedupe ms, stats ttl ms, then per event: id, json, received ms,
// source id, size.
var enqueueScript = redis.NewScript(luaBacklog + `
local out, records, acts, counts, held = {}, {}, {}, {}, {}
local k = 5
for j = 3, #ARGV, 5 do
  local id, src = ARGV[j], ARGV[j + 3]
  if redis.call('SET', KEYS[k], id, 'NX', 'PX', ARGV[1]) then
    records[#records + 1] = id
    records[#records + 1] = ARGV[j + 1]
    redis.call('XADD', KEYS[2], '*', 'e', id)
    local act = acts[KEYS[k + 1]] or {}
    act[#act + 1] = ARGV[j + 2]
    act[#act + 1] = id
    acts[KEYS[k + 1]] = act
    local c = counts[KEYS[k + 2]] or {}
    c[src] = (c[src] or 0) + 1
    counts[KEYS[k + 2]] = c
    local h = held[src] or {0, 0}
    h[1], h[2] = h[1] + 1, h[2] + tonumber(ARGV[j + 4])
    held[src] = h
    out[#out + 1] = 1
    out[#out + 1] = id
  else
    out[#out + 1] = 0
    out[#out + 1] = redis.call('GET', KEYS[k])
  end
  k = k + 3
end
if #records > 0 then redis.call('HSET', KEYS[1], unpack(records)) end
for key, act in pairs(acts) do redis.call('ZADD', key, unpack(act)) end
for src, h in pairs(held) do
  redis.call('SADD', KEYS[3], src)
  add(KEYS[4], src, h[1], h[2])
end
for key, c in pairs(counts) do
  local total = 0
  for src, n in pairs(c) do
    redis.call('HINCRBY', key, src .. ':received', n)
    total = total + n
  end
  redis.call('HINCRBY', key, 'received', total)
  redis.call('PEXPIRE', key, ARGV[2])
end
return out
`)

// maxBatch bounds how many events share one round trip to Redis.
const maxBatch = 64

// pendingEnqueue is one Enqueue call waiting for its round trip.
type pendingEnqueue struct {
	ev   *Event
	raw  []byte
	hash string
	id   string
	dup  bool
	err  error
	wake chan bool // true: lead the next round trip; false: done
}

// batcher groups concurrent Enqueue calls of a process into shared round
// trips (group commit). A call that finds no round trip in flight makes
// one itself, for every call pending at that moment; calls arriving
// meanwhile wait, and the first of them makes the next one. A lone call
// goes out at once; under load each round trip carries what accumulated
// while the previous one was in flight, which saves a script call, system
// calls and Redis commands per event.
//
// One round trip at a time keeps the batches, and so the saving, largest;
// a second one in flight did not raise the throughput refhub bench
// measures.
type batcher struct {
	mu      sync.Mutex
	pending []*pendingEnqueue
	busy    bool // a round trip is in flight or being handed on
}

// join queues p and reports whether a round trip is in flight (p waits).
func (b *batcher) join(p *pendingEnqueue) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = append(b.pending, p)
	if b.busy {
		return true
	}
	b.busy = true
	return false
}

// take removes what the next round trip carries.
func (b *batcher) take() []*pendingEnqueue {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(len(b.pending), maxBatch)
	out := b.pending[:n:n]
	b.pending = b.pending[n:]
	return out
}

// handOff passes the lead to the first waiting call, or ends the run.
func (b *batcher) handOff() {
	b.mu.Lock()
	if len(b.pending) == 0 {
		b.busy = false
		b.pending = nil
		b.mu.Unlock()
		return
	}
	next := b.pending[0]
	b.mu.Unlock()
	next.wake <- true
}

// Enqueue durably stores ev and queues it on its portal's lane, then marks
// the lane ready. A body seen for the same source within DedupeWindow
// (dedupeHash) is not queued again: the first event's id is returned with
// duplicate true. It returns once the event is stored (concurrent calls
// share round trips to Redis).
func (q *Queue) Enqueue(ctx context.Context, ev *Event, dedupeHash string) (id string, duplicate bool, err error) {
	ev.Size = eventSize(ev)
	raw, err := ev.encode()
	if err != nil {
		return "", false, err
	}
	p := &pendingEnqueue{ev: ev, raw: raw, hash: dedupeHash, wake: make(chan bool, 1)}
	if q.enq.join(p) {
		if lead := <-p.wake; !lead {
			return p.id, p.dup, p.err
		}
	}
	batch := q.enq.take() // p is its first call
	defer q.finish(batch)
	q.write(ctx, batch)
	return p.id, p.dup, p.err
}

// finish wakes the other callers of a batch and passes the lead on. A call
// left without a result (the round trip panicked) gets an error, never a
// silent success.
func (q *Queue) finish(batch []*pendingEnqueue) {
	for _, o := range batch {
		if o.id == "" && o.err == nil {
			o.err = errors.New("enqueue: the round trip to Redis did not complete")
		}
	}
	for _, o := range batch[1:] {
		o.wake <- false
	}
	q.enq.handOff()
}

// write stores a batch: one script call per portal, and the signals of
// their lanes, in one pipeline.
func (q *Queue) write(ctx context.Context, batch []*pendingEnqueue) {
	// Other callers' events ride on this call: a caller that gives up must
	// not cancel them.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	groups := byPortal(batch)
	cmds := q.send(ctx, groups)
	var retry []enqueueGroup
	for i, g := range groups {
		if isNoScript(cmds[i].Err()) {
			retry = append(retry, g)
		} else {
			g.settle(cmds[i])
		}
	}
	if len(retry) == 0 {
		return
	}
	if err := enqueueScript.Load(ctx, q.rdb).Err(); err != nil {
		for _, g := range retry {
			g.fail(err)
		}
		return
	}
	for i, cmd := range q.send(ctx, retry) {
		retry[i].settle(cmd)
	}
}

// send runs the groups' scripts and lane signals in one pipeline.
func (q *Queue) send(ctx context.Context, groups []enqueueGroup) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(groups))
	now := q.now()
	_, _ = q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, g := range groups {
			cmds[i] = enqueueScript.EvalSha(ctx, p, g.keys(), g.args()...)
		}
		for _, g := range groups {
			signal(ctx, p, g.hub, now)
		}
		return nil
	})
	return cmds
}

// enqueueGroup is the part of a batch for one portal: its keys share the
// portal's hash slot, as a script's keys must on Redis Cluster.
type enqueueGroup struct {
	hub   int64
	calls []*pendingEnqueue
}

func byPortal(batch []*pendingEnqueue) []enqueueGroup {
	var groups []enqueueGroup
	idx := map[int64]int{}
	for _, p := range batch {
		i, ok := idx[p.ev.HubID]
		if !ok {
			i = len(groups)
			idx[p.ev.HubID] = i
			groups = append(groups, enqueueGroup{hub: p.ev.HubID})
		}
		groups[i].calls = append(groups[i].calls, p)
	}
	return groups
}

func (g enqueueGroup) keys() []string {
	keys := make([]string, 0, 4+3*len(g.calls))
	keys = append(keys, eventsKey(g.hub), laneKey(g.hub), sourcesKey(g.hub), backlogKey(g.hub))
	for _, p := range g.calls {
		keys = append(keys, seenKey(g.hub, p.ev.SourceID, p.hash), activityKey(g.hub, p.ev.SourceID), statsKey(g.hub, p.ev.ReceivedAt))
	}
	return keys
}

func (g enqueueGroup) args() []any {
	args := make([]any, 0, 2+5*len(g.calls))
	args = append(args, DedupeWindow.Milliseconds(), statsTTL.Milliseconds())
	for _, p := range g.calls {
		args = append(args, p.ev.ID, p.raw, p.ev.ReceivedAt.UnixMilli(), p.ev.SourceID, p.ev.Size)
	}
	return args
}

// settle hands each call its result.
func (g enqueueGroup) settle(cmd *redis.Cmd) {
	vals, err := cmd.Slice()
	if err == nil && len(vals) != 2*len(g.calls) {
		err = fmt.Errorf("unexpected reply %v", vals)
	}
	if err != nil {
		g.fail(err)
		return
	}
	for i, p := range g.calls {
		fresh, _ := vals[2*i].(int64)
		p.id, _ = vals[2*i+1].(string)
		p.dup = fresh == 0
	}
}

func (g enqueueGroup) fail(err error) {
	for _, p := range g.calls {
		p.err = fmt.Errorf("enqueue event for portal %d: %w", g.hub, err)
	}
}
