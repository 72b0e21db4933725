package hshooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/internal/redisscan"
	"github.com/refhub/refhub/tenants"
)

// Keys: one stream of stored batches shared by every replica, and one
// marker per handled event in its portal's slot.
const (
	streamKey = "{hshooks}:in"
	group     = "refhub"
)

func markKey(hub, eventID int64) string {
	return tenants.PortalKey(hub, "hsev:"+strconv.FormatInt(eventID, 10))
}

// DedupeWindow is how long an event id is remembered as handled: HubSpot
// retries an event for about a day, and may send a copy late.
const DedupeWindow = 72 * time.Hour

// busyFor is how long an event being handled stays claimed by the replica
// handling it; if that replica dies, another may take it afterwards.
const busyFor = time.Minute

// DefaultMinIdle is how long a stored batch may stay unfinished by the
// replica that took it before another replica takes it over: longer than
// busyFor, so the claims of a replica that died have expired by then.
const DefaultMinIdle = 2 * time.Minute

// errBusy: another replica is handling the event (a copy of it).
var errBusy = errors.New("being handled by another replica")

// readCount is how many stored batches one read takes.
const readCount = 50

// Inbox is the durable store of received events and their processing: a
// Redis stream read by a consumer group, so each batch is taken by one
// replica, and taken over by another if that one dies before finishing.
type Inbox struct {
	rdb      redis.UniversalClient
	handlers []Handler
	metrics  *Metrics
	log      *slog.Logger
	consumer string
	wake     chan struct{}
	// MinIdle is how long a batch taken by a replica stays its own before
	// another may take it over (DefaultMinIdle); BusyFor how long an event
	// being handled stays claimed (busyFor). Tests shorten both.
	MinIdle, BusyFor time.Duration
}

// NewInbox returns the inbox; consumer names this replica (unique per
// process).
func NewInbox(rdb redis.UniversalClient, consumer string, handlers []Handler, m *Metrics, log *slog.Logger) *Inbox {
	return &Inbox{rdb: rdb, consumer: consumer, handlers: handlers, metrics: m, log: log,
		wake: make(chan struct{}, 1), MinIdle: DefaultMinIdle, BusyFor: busyFor}
}

// Store appends a batch of events durably, then wakes this replica's
// processing.
func (in *Inbox) Store(ctx context.Context, events []Event) error {
	raw, err := json.Marshal(events)
	if err != nil {
		return err
	}
	if err := in.rdb.XAdd(ctx, &redis.XAddArgs{Stream: streamKey, Values: []string{"b", string(raw)}}).Err(); err != nil {
		return fmt.Errorf("store hubspot events: %w", err)
	}
	select {
	case in.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run processes stored events until ctx ends: when this replica stored
// some, and every second for those stored by others or left unfinished.
func (in *Inbox) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if _, err := in.Drain(ctx); err != nil && ctx.Err() == nil {
			in.log.Warn("hubspot events: processing", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-in.wake:
		case <-tick.C:
		}
	}
}

// Drain processes every stored batch waiting now, and those other
// replicas left unfinished for MinIdle; it returns how many events were
// handled.
func (in *Inbox) Drain(ctx context.Context) (int, error) {
	if err := in.ensureGroup(ctx); err != nil {
		return 0, err
	}
	n := 0
	start := "0-0"
	for {
		msgs, next, err := in.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: streamKey, Group: group,
			Consumer: in.consumer, MinIdle: in.MinIdle, Start: start, Count: readCount}).Result()
		if err != nil {
			return n, fmt.Errorf("take over hubspot events: %w", err)
		}
		n += in.processAll(ctx, msgs)
		if next == "0-0" || next == "" || len(msgs) == 0 {
			break
		}
		start = next
	}
	for {
		res, err := in.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: in.consumer,
			Streams: []string{streamKey, ">"}, Count: readCount, Block: -1}).Result()
		if errors.Is(err, redis.Nil) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read hubspot events: %w", err)
		}
		if len(res) == 0 || len(res[0].Messages) == 0 {
			return n, nil
		}
		n += in.processAll(ctx, res[0].Messages)
	}
}

func (in *Inbox) ensureGroup(ctx context.Context) error {
	err := in.rdb.XGroupCreateMkStream(ctx, streamKey, group, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("hubspot events group: %w", err)
	}
	return nil
}

// processAll handles the events of each batch; a batch whose events were
// all handled is acknowledged and deleted, one with a failure stays for a
// later attempt (by MinIdle, on any replica).
func (in *Inbox) processAll(ctx context.Context, msgs []redis.XMessage) int {
	n := 0
	for _, m := range msgs {
		var events []Event
		raw, _ := m.Values["b"].(string)
		if err := json.Unmarshal([]byte(raw), &events); err != nil {
			in.log.Error("hubspot events: unreadable stored batch dropped", "id", m.ID, "err", err)
		}
		failed := false
		for _, ev := range events {
			handled, err := in.handle(ctx, ev)
			if errors.Is(err, errBusy) {
				failed = true
				continue
			}
			if err != nil {
				failed = true
				in.metrics.events("failed", 1)
				in.log.Warn("hubspot event: will be handled again", "portal", ev.PortalID, "event", ev.EventID,
					"type", ev.SubscriptionType, "err", err)
				continue
			}
			if handled {
				n++
			}
		}
		if !failed {
			pipe := in.rdb.TxPipeline()
			pipe.XAck(ctx, streamKey, group, m.ID)
			pipe.XDel(ctx, streamKey, m.ID)
			if _, err := pipe.Exec(ctx); err != nil {
				in.log.Warn("hubspot events: acknowledge", "err", err)
			}
		}
	}
	return n
}

// releaseScript drops an event's claim if it is still the caller's.
// KEYS: marker. ARGV: owner.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// handle gives one event to every handler unless it was handled already
// (or is being handled elsewhere: that copy finishes it, or is taken over
// if its replica dies). It reports whether the event was handled here.
func (in *Inbox) handle(ctx context.Context, ev Event) (bool, error) {
	key := markKey(ev.PortalID, ev.EventID)
	owner := "busy:" + in.consumer
	ok, err := in.rdb.SetNX(ctx, key, owner, in.BusyFor).Result()
	if err != nil {
		return false, err
	}
	if !ok {
		// Done: a copy was handled. Busy: another replica handles a copy;
		// this batch stays unfinished until that is done (or has expired,
		// if that replica died), then is acknowledged or handled here.
		if v, err := in.rdb.Get(ctx, key).Result(); err == nil && v != "done" {
			return false, errBusy
		}
		in.metrics.events("duplicate", 1)
		return false, nil
	}
	for _, h := range in.handlers {
		if err := h.HandleHubSpotEvent(ctx, ev); err != nil {
			_ = releaseScript.Run(context.WithoutCancel(ctx), in.rdb, []string{key}, owner).Err()
			return false, err
		}
	}
	if err := in.rdb.Set(ctx, key, "done", DedupeWindow).Err(); err != nil {
		return false, err
	}
	in.metrics.events("processed", 1)
	return true, nil
}

// Pending returns how many stored batches wait or are unfinished.
func (in *Inbox) Pending(ctx context.Context) (int64, error) {
	return in.rdb.XLen(ctx, streamKey).Result()
}

// PurgePortal removes a deleted portal's handled-event markers. (Its stored
// events are dropped when processed: the portal is unknown then.)
func PurgePortal(ctx context.Context, rdb redis.UniversalClient, hub int64) error {
	keys, err := redisscan.Keys(ctx, rdb, tenants.PortalKey(hub, "hsev:*"))
	if err != nil || len(keys) == 0 {
		return err
	}
	return rdb.Del(ctx, keys...).Err()
}
