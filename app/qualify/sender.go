package qualify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/tenants"
)

// Lead is what refhub knows of a referred person: the source that sent
// it, its Referral Factory code, email and HubSpot contact, and who
// referred it.
type Lead struct {
	Source, Code, Email, ContactID, Referrer string
}

// Leads finds a portal's leads by HubSpot contact and counts a lead as
// qualified (once, however often told).
type Leads interface {
	ByContact(ctx context.Context, hub int64, contactID string) (Lead, bool, error)
	MarkQualified(ctx context.Context, hub int64, source, code string) (first bool, err error)
}

// DealContacts returns the ids of the contacts associated with a deal.
type DealContacts interface {
	DealContacts(ctx context.Context, hub int64, dealID string) ([]string, error)
}

// Keys: one claim per referral in its portal's slot (exactly once), and
// one schedule of work due, shared by every replica.
const dueKey = "{qualify}:due"

func claimKey(hub int64, source, code string) string {
	return tenants.PortalKey(hub, "qual:"+source+":"+code)
}

// dealStagesKey lists the deal stages some rule of a source sending to the
// portal watches: other stage changes cost nothing.
func dealStagesKey(hub int64) string { return tenants.PortalKey(hub, "qdealstages") }

// Claim states.
const (
	pending = "pending"
	sent    = "sent"
	dead    = "dead"
)

// lease is how long a replica owns work it took: longer than a call to
// Referral Factory may last.
const lease = 2 * time.Minute

// DefaultRetryFor is how long a qualification is retried before it becomes
// a dead letter.
const DefaultRetryFor = 72 * time.Hour

// job is a member of the schedule: a referral to qualify (S, C) or a deal
// whose stage changed (D, V; T when it was first tried).
type job struct {
	H int64  `json:"h"`
	S string `json:"s,omitempty"`
	C string `json:"c,omitempty"`
	D string `json:"d,omitempty"`
	V string `json:"v,omitempty"`
	T int64  `json:"t,omitempty"`
}

func (j job) member() string { b, _ := json.Marshal(j); return string(b) }

// Deps are what the sender works with.
type Deps struct {
	Redis    redis.UniversalClient
	Rules    *Rules
	Leads    Leads
	Deals    DealContacts
	RF       *referralfactory.Client
	Queue    *queue.Queue
	Log      *slog.Logger
	Now      func() time.Time
	RetryFor time.Duration // default DefaultRetryFor
	Registry prometheus.Registerer
}

// Sender qualifies referrals at Referral Factory.
type Sender struct {
	Deps
	results *prometheus.CounterVec
	wake    chan struct{}
}

// NewSender returns the sender and registers its metrics.
func NewSender(d Deps) *Sender {
	if d.RetryFor <= 0 {
		d.RetryFor = DefaultRetryFor
	}
	s := &Sender{Deps: d, wake: make(chan struct{}, 1),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_qualifications_total",
			Help: "Qualification calls to Referral Factory by result: qualified, retried, dead_lettered, duplicate."}, []string{"result"})}
	if d.Registry != nil {
		d.Registry.MustRegister(s.results)
	}
	return s
}

// Enqueue queues the qualification of a lead's referral, unless it was
// qualified (or queued, or dead-lettered) before: one claim per referral
// makes it exactly once, whatever HubSpot repeats and whichever replica
// hears it. why says what met the rule, for the activity.
func (s *Sender) Enqueue(ctx context.Context, hub int64, lead Lead, why string) error {
	j := job{H: hub, S: lead.Source, C: lead.Code}
	key := claimKey(hub, lead.Source, lead.Code)
	now := s.Now()
	// Scheduled first: a crash after this line leaves a job that finds no
	// claim and is dropped, and HubSpot's event is handled again.
	if err := s.Redis.ZAddNX(ctx, dueKey, redis.Z{Score: float64(now.UnixMilli()), Member: j.member()}).Err(); err != nil {
		return err
	}
	id := queue.NewEventID(now)
	fresh, err := s.Redis.HSetNX(ctx, key, "state", pending).Result()
	if err != nil {
		return err
	}
	if !fresh {
		if st, _ := s.Redis.HGet(ctx, key, "state").Result(); st != pending {
			s.Redis.ZRem(ctx, dueKey, j.member())
		}
		s.results.WithLabelValues("duplicate").Inc()
		return nil
	}
	if err := s.Redis.HSet(ctx, key, "event", id, "email", lead.Email, "contact", lead.ContactID,
		"why", why, "first", now.UnixMilli(), "attempts", 0).Err(); err != nil {
		return err
	}
	ev := record(id, hub, lead, why, now)
	if err := s.Queue.Record(ctx, &ev); err != nil {
		return err
	}
	s.poke()
	return nil
}

// record is the activity record of a qualification.
func record(id string, hub int64, lead Lead, why string, at time.Time) queue.Event {
	return queue.Event{ID: id, Kind: queue.KindQualification, SourceID: lead.Source, HubID: hub, Email: lead.Email,
		ContactID: lead.ContactID, Status: queue.Queued, ReceivedAt: at.UTC(), UpdatedAt: at.UTC(),
		Payload: []payload.Field{{Path: "code", Value: lead.Code}, {Path: "met", Value: why}}}
}

func (s *Sender) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// takeScript leases up to n due jobs: their score moves to the end of the
// lease, so no other replica takes them meanwhile.
// KEYS: due. ARGV: now ms, lease end ms, n.
var takeScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m) end
return due
`)

// Step does the work due now (by the injected clock) and returns how many
// jobs it took.
func (s *Sender) Step(ctx context.Context) (int, error) {
	now := s.Now()
	members, err := takeScript.Run(ctx, s.Redis, []string{dueKey}, now.UnixMilli(), now.Add(lease).UnixMilli(), 20).StringSlice()
	if err != nil {
		return 0, fmt.Errorf("qualifications due: %w", err)
	}
	for _, m := range members {
		var j job
		if json.Unmarshal([]byte(m), &j) != nil {
			s.Redis.ZRem(ctx, dueKey, m)
			continue
		}
		if j.D != "" {
			err = s.deal(ctx, m, j)
		} else {
			err = s.send(ctx, m, j)
		}
		if err != nil {
			s.Log.Warn("qualification: will be tried again", "portal", j.H, "source", j.S, "err", err)
		}
	}
	return len(members), nil
}

// Run does due work until ctx ends, every second and when work arrives.
func (s *Sender) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for {
			n, err := s.Step(ctx)
			if err != nil || n == 0 || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
		}
	}
}

// NextDue returns when the next job is due (tests move their clock to it).
func (s *Sender) NextDue(ctx context.Context) (time.Time, bool, error) {
	z, err := s.Redis.ZRangeWithScores(ctx, dueKey, 0, 0).Result()
	if err != nil || len(z) == 0 {
		return time.Time{}, false, err
	}
	return time.UnixMilli(int64(z[0].Score)), true, nil
}

// claim is a referral's state.
type claim struct {
	state, event, email, contact, why string
	first                             time.Time
	attempts                          int
}

func (s *Sender) claimOf(ctx context.Context, j job) (claim, bool, error) {
	m, err := s.Redis.HGetAll(ctx, claimKey(j.H, j.S, j.C)).Result()
	if err != nil || len(m) == 0 {
		return claim{}, false, err
	}
	first, _ := strconv.ParseInt(m["first"], 10, 64)
	n, _ := strconv.Atoi(m["attempts"])
	return claim{state: m["state"], event: m["event"], email: m["email"], contact: m["contact"], why: m["why"],
		first: time.UnixMilli(first), attempts: n}, true, nil
}

// send makes one qualification call and settles the referral's state.
func (s *Sender) send(ctx context.Context, member string, j job) error {
	c, ok, err := s.claimOf(ctx, j)
	if err != nil {
		return err
	}
	if !ok || c.state != pending {
		return s.Redis.ZRem(ctx, dueKey, member).Err()
	}
	lead := Lead{Source: j.S, Code: j.C, Email: c.email, ContactID: c.contact}
	rule, ok, err := s.Rules.Get(ctx, j.S)
	if err != nil {
		return err
	}
	if !ok {
		return s.bury(ctx, member, j, lead, c, "The source has no qualification rule any more, so refhub does not know where to send it.",
			"Set the rule in the source's Qualification tab, then replay this dead letter.")
	}
	c.attempts++
	err = s.RF.Qualify(ctx, rule.InboundURL, j.C)
	now := s.Now()
	if err == nil {
		return s.delivered(ctx, member, j, lead, c, now)
	}
	delay, retry := referralfactory.RetryDelay(err)
	if retry && now.Sub(c.first) < s.RetryFor {
		delay = max(delay, backoff(c.attempts))
		s.results.WithLabelValues("retried").Inc()
		if err := s.Redis.HSet(ctx, claimKey(j.H, j.S, j.C), "attempts", c.attempts).Err(); err != nil {
			return err
		}
		ev := s.recordOf(j, lead, c)
		ev.Attempts, ev.Reason = c.attempts, "Referral Factory did not take it yet: "+err.Error()
		ev.FirstFailure, ev.LastFailure = timePtr(c.first), timePtr(now)
		if err := s.Queue.Record(ctx, &ev); err != nil {
			return err
		}
		return s.Redis.ZAddXX(ctx, dueKey, redis.Z{Score: float64(now.Add(delay).UnixMilli()), Member: member}).Err()
	}
	reason, fix := explain(err, retry, s.RetryFor)
	return s.bury(ctx, member, j, lead, c, reason, fix)
}

func (s *Sender) delivered(ctx context.Context, member string, j job, lead Lead, c claim, now time.Time) error {
	if err := s.Redis.HSet(ctx, claimKey(j.H, j.S, j.C), "state", sent, "sent", now.UnixMilli(), "attempts", c.attempts).Err(); err != nil {
		return err
	}
	s.Redis.ZRem(ctx, dueKey, member)
	s.results.WithLabelValues("qualified").Inc()
	ev := s.recordOf(j, lead, c)
	ev.Status, ev.Outcome, ev.Attempts, ev.DeliveredAt = queue.Delivered, queue.Qualified, c.attempts, timePtr(now)
	if err := s.Queue.Record(ctx, &ev); err != nil {
		return err
	}
	if _, err := s.Leads.MarkQualified(ctx, j.H, j.S, j.C); err != nil {
		s.Log.Warn("qualification: count the lead qualified", "portal", j.H, "source", j.S, "err", err)
	}
	s.Log.Info("referral qualified at Referral Factory", "portal", j.H, "source", j.S, "attempts", c.attempts)
	return nil
}

// bury dead-letters a referral's qualification with the reason.
func (s *Sender) bury(ctx context.Context, member string, j job, lead Lead, c claim, reason, fix string) error {
	if err := s.Redis.HSet(ctx, claimKey(j.H, j.S, j.C), "state", dead, "attempts", c.attempts).Err(); err != nil {
		return err
	}
	s.Redis.ZRem(ctx, dueKey, member)
	s.results.WithLabelValues("dead_lettered").Inc()
	now := s.Now()
	ev := s.recordOf(j, lead, c)
	ev.Status, ev.Attempts, ev.Reason, ev.Fix = queue.Failed, c.attempts, reason, fix
	ev.FirstFailure, ev.LastFailure = timePtr(c.first), timePtr(now)
	s.Log.Warn("qualification dead-lettered", "portal", j.H, "source", j.S, "reason", reason)
	return s.Queue.Record(ctx, &ev)
}

func (s *Sender) recordOf(j job, lead Lead, c claim) queue.Event {
	ev := record(c.event, j.H, lead, c.why, c.first)
	ev.UpdatedAt = s.Now().UTC()
	return ev
}

// backoff is the wait before attempt n+1: 30 s doubling, at most an hour.
func backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// explain says in plain words why a qualification was given up, and what
// to do.
func explain(err error, retryable bool, window time.Duration) (string, string) {
	var nf *referralfactory.NotFoundError
	var ve *referralfactory.ValidationError
	var ie *referralfactory.InboundURLError
	switch {
	case retryable:
		return fmt.Sprintf("Referral Factory could not be reached or kept failing for %s: %v", window, err),
			"Replay this dead letter once Referral Factory answers again."
	case errors.As(err, &nf):
		return "Referral Factory does not know this inbound webhook URL (it was regenerated or mistyped).",
			"Copy the current inbound qualify URL from Referral Factory into the source's Qualification tab, then replay."
	case errors.As(err, &ve):
		return "Referral Factory refused the code: " + ve.Message,
			"Check in Referral Factory that this lead exists in the campaign of the inbound webhook, then replay."
	case errors.As(err, &ie):
		return "The inbound URL is not one refhub may call: " + ie.Reason,
			"Set the inbound qualify URL again in the source's Qualification tab, then replay."
	}
	return "Referral Factory refused the qualification: " + err.Error(), "Check the source's Qualification tab, then replay."
}

func timePtr(t time.Time) *time.Time { u := t.UTC(); return &u }

// ReplayRecords queues again the dead-lettered qualifications among evs
// (records of other kinds are left alone) and returns how many it queued.
// The referral's claim goes back to pending, so it is still sent once.
func (s *Sender) ReplayRecords(ctx context.Context, evs []queue.Event) (int, error) {
	n := 0
	for _, ev := range evs {
		if ev.Kind != queue.KindQualification || ev.Status != queue.Failed {
			continue
		}
		code := ""
		for _, f := range ev.Payload {
			if f.Path == "code" {
				code = f.Value
			}
		}
		key := claimKey(ev.HubID, ev.SourceID, code)
		if st, err := s.Redis.HGet(ctx, key, "state").Result(); err != nil || st != dead {
			continue
		}
		now := s.Now()
		if err := s.Redis.HSet(ctx, key, "state", pending, "attempts", 0, "first", now.UnixMilli()).Err(); err != nil {
			return n, err
		}
		j := job{H: ev.HubID, S: ev.SourceID, C: code}
		if err := s.Redis.ZAdd(ctx, dueKey, redis.Z{Score: float64(now.UnixMilli()), Member: j.member()}).Err(); err != nil {
			return n, err
		}
		ev.Status, ev.Replays, ev.UpdatedAt = queue.Queued, ev.Replays+1, now.UTC()
		ev.Reason, ev.Fix, ev.Attempts, ev.FirstFailure, ev.LastFailure = "", "", 0, nil, nil
		if err := s.Queue.Record(ctx, &ev); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		s.poke()
	}
	return n, nil
}
