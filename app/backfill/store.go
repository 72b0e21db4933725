package backfill

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/tenants"
)

// Keys (docs/ARCHITECTURE.md lists them). A job lives in the source's hash
// slot; the index of running jobs and of daily reconciles is global.
func jobKey(src string) string   { return "{s:" + src + "}:backfill" }
func dailyKey(src string) string { return "{s:" + src + "}:reconcile" }

const (
	runningKey = "backfill:running" // sources with a running job
	dailySet   = "backfill:daily"   // sources with a daily reconcile
)

// job is a job as stored: a hash, so a replica updates its position and
// lease atomically.
type job struct {
	Source     string
	ID         string
	Mode       string
	Status     string
	CampaignID int64
	Page       int // the last page finished
	Done       int
	Total      int
	Matched    int
	Queued     int
	Refused    int
	NotSent    int
	Errors     int // consecutive failed calls
	WaitingOn  string
	WaitUntil  time.Time
	Error      string
	StartedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time
	Owner      string
	Lease      time.Time
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(s string) time.Time {
	n, _ := strconv.ParseInt(s, 10, 64)
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

func parseJob(src string, h map[string]string) job {
	n := func(k string) int { v, _ := strconv.Atoi(h[k]); return v }
	c, _ := strconv.ParseInt(h["campaign"], 10, 64)
	return job{Source: src, ID: h["id"], Mode: h["mode"], Status: h["status"], CampaignID: c, Page: n("page"),
		Done: n("done"), Total: n("total"), Matched: n("matched"), Queued: n("queued"), Refused: n("refused"),
		NotSent: n("not_sent"),
		Errors:  n("errors"), WaitingOn: h["waiting_on"], WaitUntil: fromMS(h["wait_until"]), Error: h["error"],
		StartedAt: fromMS(h["started_at"]), UpdatedAt: fromMS(h["updated_at"]), FinishedAt: fromMS(h["finished_at"]),
		Owner: h["owner"], Lease: fromMS(h["lease"])}
}

func (j job) view() Status {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	st := Status{Status: j.Status, Mode: j.Mode, CampaignID: j.CampaignID, Done: j.Done, Total: j.Total,
		Matched: j.Matched, Queued: j.Queued, Refused: j.Refused, NotSent: j.NotSent, Page: j.Page, Error: j.Error,
		StartedAt: opt(j.StartedAt), FinishedAt: opt(j.FinishedAt)}
	if j.Status == Running {
		st.WaitingOn, st.WaitUntil = j.WaitingOn, opt(j.WaitUntil)
	}
	return st
}

// load returns the source's job (zero when none ever ran).
func (s *Service) load(ctx context.Context, src string) (job, error) {
	h, err := s.d.Redis.HGetAll(ctx, jobKey(src)).Result()
	if err != nil {
		return job{}, err
	}
	return parseJob(src, h), nil
}

// createScript starts a job unless one is running.
// KEYS: job. ARGV: field, value pairs.
var createScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'status') == 'running' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`)

func (s *Service) create(ctx context.Context, src string, req Request, total int) (job, error) {
	now := s.d.Clock.Now().UTC()
	j := job{Source: src, ID: tenants.NewID("bf"), Mode: req.Mode, Status: Running, CampaignID: req.CampaignID,
		Total: total, StartedAt: now, UpdatedAt: now}
	// In the index first: a job is never running without a replica able
	// to find it.
	if err := s.d.Redis.ZAdd(ctx, runningKey, redis.Z{Score: float64(now.UnixMilli()), Member: src}).Err(); err != nil {
		return job{}, err
	}
	ok, err := createScript.Run(ctx, s.d.Redis, []string{jobKey(src)}, "id", j.ID, "mode", j.Mode, "status", Running,
		"campaign", j.CampaignID, "page", 0, "done", 0, "total", total, "matched", 0, "queued", 0, "refused", 0, "not_sent", 0,
		"errors", 0, "started_at", ms(now), "updated_at", ms(now)).Int()
	if err != nil {
		return job{}, err
	}
	if ok == 0 {
		return job{}, apperr.New(apperr.Conflict, "a backfill of this source is running; wait for it to finish")
	}
	return j, nil
}

// claimScript gives a running job to owner unless it waits or another
// replica holds a live lease on it. {1, fields...} or {0, ms to wait}.
// KEYS: job. ARGV: owner, now ms, lease ms.
var claimScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return {0, -1} end
local now = tonumber(ARGV[2])
local wu = tonumber(redis.call('HGET', KEYS[1], 'wait_until') or '0')
if wu > now then return {0, wu - now} end
local owner = redis.call('HGET', KEYS[1], 'owner')
local lease = tonumber(redis.call('HGET', KEYS[1], 'lease') or '0')
if owner and owner ~= '' and owner ~= ARGV[1] and lease > now then return {0, lease - now} end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'lease', now + tonumber(ARGV[3]))
return {1}
`)

// claim takes the job's lease. It returns false and how long until it may
// be claimed (negative: the job does not run).
func (s *Service) claim(ctx context.Context, src, owner string) (job, bool, time.Duration, error) {
	now := s.d.Clock.Now()
	res, err := claimScript.Run(ctx, s.d.Redis, []string{jobKey(src)}, owner, now.UnixMilli(), s.cfg.Lease.Milliseconds()).Int64Slice()
	if err != nil {
		return job{}, false, 0, err
	}
	if res[0] == 0 {
		return job{}, false, time.Duration(res[1]) * time.Millisecond, nil
	}
	j, err := s.load(ctx, src)
	return j, err == nil, 0, err
}

// ownedScript runs an update of a job only while owner holds it.
// KEYS: job. ARGV: owner, then field, value pairs.
var ownedScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
`)

// errLost is a job another replica took over (this one stalled past its
// lease) or that ended meanwhile.
var errLost = errors.New("backfill: the job's lease was lost")

func (s *Service) owned(ctx context.Context, src, owner string, kv ...any) error {
	ok, err := ownedScript.Run(ctx, s.d.Redis, []string{jobKey(src)}, append([]any{owner}, kv...)...).Int()
	if err != nil {
		return err
	}
	if ok == 0 {
		return errLost
	}
	return nil
}

// heartbeat renews owner's lease.
func (s *Service) heartbeat(ctx context.Context, src, owner string) error {
	return s.owned(ctx, src, owner, "lease", s.d.Clock.Now().Add(s.cfg.Lease).UnixMilli())
}

// commitScript records a finished page: only the next page after the last
// finished, only by the job's owner, so a page is counted once.
// KEYS: job. ARGV: owner, page, read, matched, queued, refused, total, last
// (1/0), now ms, lease ms, not sent.
var commitScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'page') or '0') ~= tonumber(ARGV[2]) - 1 then return 0 end
local now = tonumber(ARGV[9])
redis.call('HSET', KEYS[1], 'page', ARGV[2], 'total', ARGV[7], 'waiting_on', '', 'wait_until', 0, 'errors', 0,
  'updated_at', now, 'lease', now + tonumber(ARGV[10]))
redis.call('HINCRBY', KEYS[1], 'done', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'matched', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'queued', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'refused', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'not_sent', ARGV[11])
if ARGV[8] == '1' then
  redis.call('HSET', KEYS[1], 'status', 'done', 'finished_at', now, 'owner', '')
end
return 1
`)

// pageResult is what one page brought.
type pageResult struct {
	page, read, matched, queued, refused, total int
	notSent                                     int // users of a kind the source sends nothing for
	last                                        bool
}

func (s *Service) commit(ctx context.Context, j job, owner string, r pageResult) error {
	last := 0
	if r.last {
		last = 1
	}
	ok, err := commitScript.Run(ctx, s.d.Redis, []string{jobKey(j.Source)}, owner, r.page, r.read, r.matched, r.queued,
		r.refused, r.total, last, s.d.Clock.Now().UnixMilli(), s.cfg.Lease.Milliseconds(), r.notSent).Int()
	if err != nil {
		return err
	}
	if ok == 0 {
		return errLost
	}
	if r.last {
		s.d.Redis.ZRem(ctx, runningKey, j.Source)
	}
	return nil
}

// wait records what the job waits on, until when. The owner keeps the job
// through the wait (its lease runs a lease's length past it): if it dies
// meanwhile, another replica carries on then.
func (s *Service) wait(ctx context.Context, j job, owner, what string, d time.Duration, failedCall bool) error {
	until := s.d.Clock.Now().Add(d)
	kv := []any{"waiting_on", what, "wait_until", until.UnixMilli(), "updated_at", s.d.Clock.Now().UnixMilli(),
		"lease", until.Add(s.cfg.Lease).UnixMilli()}
	if failedCall {
		kv = append(kv, "errors", j.Errors+1)
	}
	return s.owned(ctx, j.Source, owner, kv...)
}

// fail ends the job with a reason the admin can act on.
func (s *Service) fail(ctx context.Context, j job, owner, reason string) error {
	now := s.d.Clock.Now().UnixMilli()
	err := s.owned(ctx, j.Source, owner, "status", Failed, "error", reason, "waiting_on", "", "wait_until", 0,
		"finished_at", now, "updated_at", now, "owner", "")
	if err == nil {
		s.d.Redis.ZRem(ctx, runningKey, j.Source)
	}
	return err
}

// running lists the sources with a running job.
func (s *Service) running(ctx context.Context) ([]string, error) {
	return s.d.Redis.ZRange(ctx, runningKey, 0, -1).Result()
}

// PurgeSource removes every key of a deleted source's jobs and schedule; a
// replica running one of its pages stops at the next.
func (s *Service) PurgeSource(ctx context.Context, src string) error { return s.purge(ctx, src) }

func (s *Service) purge(ctx context.Context, src string) error {
	pipe := s.d.Redis.Pipeline()
	pipe.Del(ctx, jobKey(src), dailyKey(src))
	pipe.ZRem(ctx, runningKey, src)
	pipe.SRem(ctx, dailySet, src)
	_, err := pipe.Exec(ctx)
	if err != nil {
		return fmt.Errorf("purge backfill of source %s: %w", src, err)
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, tenants.ErrNotFound) }
