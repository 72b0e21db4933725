// Package backfill brings in the Referral Factory users a source's webhook
// never delivered: a backfill reads every user of the customer's account
// through Referral Factory's API (pages of 250, inside its 600 calls a
// minute, shared by every replica) and queues those of one campaign through
// the same pipeline as a webhook (ingest.Build, the queue, delivery); a
// reconcile does the same but queues only the people refhub never
// delivered, and can run daily. A job's position lives in Redis under a
// lease: when the replica running it dies, another carries on from the last
// finished page.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/tenants"
)

// Modes of a job.
const (
	Backfill  = "backfill"  // queue every user of the campaign
	Reconcile = "reconcile" // queue only the users the source never delivered
)

// Statuses of a job.
const (
	Running = "running"
	Done    = "done"
	Failed  = "failed"
)

// Config tunes the jobs.
type Config struct {
	// Calls per Period is the budget of Referral Factory API calls per
	// account (its API token), shared by every replica. Referral Factory
	// allows 600 a minute; the default keeps a tenth in hand (540/1m).
	Calls  int
	Period time.Duration
	// Lease is how long a replica holds a job without renewing it: when it
	// dies, another carries on after at most this long. Default 15 s.
	Lease time.Duration
	// Poll is how often a replica looks for jobs to run. Default 1 s.
	Poll time.Duration
	// Jobs is how many jobs one replica runs at once. Default 4.
	Jobs int
}

func (c *Config) defaults() {
	if c.Calls <= 0 || c.Period <= 0 {
		c.Calls, c.Period = 540, time.Minute
	}
	if c.Lease <= 0 {
		c.Lease = 15 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Jobs <= 0 {
		c.Jobs = 4
	}
}

// Quota says whether a source's backlog is at its quota (ingest.Quota).
type Quota interface {
	Check(ctx context.Context, src *tenants.Source) *ingest.OverQuota
}

// Deps are what jobs work with.
type Deps struct {
	Redis   redis.UniversalClient
	Store   *tenants.RedisStore
	Sources *tenants.SourceCache // the write path of sources (the API token)
	RF      *referralfactory.Client
	Queue   *queue.Queue
	Intake  *ingest.Intake
	Quota   Quota
	Clock   ratelimit.Clock
	Log     *slog.Logger
	// Owner names this replica in leases (host and process).
	Owner string
}

// Service starts, reports and runs backfills and reconciles.
type Service struct {
	cfg Config
	d   Deps
}

// New returns the service.
func New(cfg Config, d Deps) *Service {
	cfg.defaults()
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Clock == nil {
		d.Clock = ratelimit.SystemClock{}
	}
	return &Service{cfg: cfg, d: d}
}

// Status is what a job reports: its state, users read of the account's
// total, the campaign's users found and queued, what it waits on, why it
// failed.
type Status struct {
	Status     string `json:"status"` // running, done, failed; "" when none ever ran
	Mode       string `json:"mode,omitempty"`
	CampaignID int64  `json:"campaign_id,omitempty"`
	Done       int    `json:"done"`  // users read
	Total      int    `json:"total"` // users in the account (every campaign: the API ignores the filter)
	Matched    int    `json:"matched"`
	Queued     int    `json:"queued"`
	Refused    int    `json:"refused"` // users of the campaign the mapping gives no email
	// NotSent are users of the campaign of a kind (referrers or leads) the
	// source sends nothing to HubSpot for: neither queued nor stored.
	NotSent    int        `json:"not_sent"`
	Page       int        `json:"page"`       // the last page finished
	WaitingOn  string     `json:"waiting_on"` // "" when it waits on nothing
	WaitUntil  *time.Time `json:"wait_until,omitempty"`
	Error      string     `json:"error"` // "" unless it failed
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	HasToken   bool       `json:"has_token"` // the source holds an API token
	Daily      *Daily     `json:"daily_reconcile,omitempty"`
}

// Percent is how much of the account was read, 0..100.
func (s Status) Percent() int {
	if s.Status == Done {
		return 100
	}
	if s.Total <= 0 {
		return 0
	}
	p := s.Done * 100 / s.Total
	if p > 100 {
		p = 100
	}
	return p
}

// Daily is a source's daily reconcile: on, of which campaign, and when it
// last started.
type Daily struct {
	CampaignID int64      `json:"campaign_id"`
	LastRun    *time.Time `json:"last_run,omitempty"`
}

// Request starts a job.
type Request struct {
	Token      string // Referral Factory API token; empty: the one the source holds
	CampaignID int64  // 0: every campaign of the account
	Mode       string // Backfill (default) or Reconcile
}

// Start validates the token with one API call, stores it sealed with the
// source, and starts a job. One job runs per source at a time.
func (s *Service) Start(ctx context.Context, src tenants.Source, req Request) (Status, error) {
	switch req.Mode {
	case "":
		req.Mode = Backfill
	case Backfill, Reconcile:
	default:
		return Status{}, apperr.New(apperr.Unprocessable, `mode is "backfill" or "reconcile"`)
	}
	if req.CampaignID < 0 {
		return Status{}, apperr.New(apperr.Unprocessable, "campaign_id is a Referral Factory campaign id (a positive number)")
	}
	token := strings.TrimSpace(req.Token)
	if token == "" {
		token = src.RFToken
	}
	if token == "" {
		return Status{}, apperr.New(apperr.Unprocessable, "give rf_api_token: the API token of your Referral Factory account (Settings → API)")
	}
	if len(token) > 512 || strings.ContainsAny(token, " \r\n\t\x00") {
		return Status{}, apperr.New(apperr.Unprocessable, "rf_api_token is not a Referral Factory API token")
	}
	if cur, err := s.load(ctx, src.ID); err != nil {
		return Status{}, err
	} else if cur.Status == Running {
		return cur.view(), apperr.New(apperr.Conflict, fmt.Sprintf("a %s of this source is running (%d of %d users read); wait for it to finish", cur.Mode, cur.Done, cur.Total))
	}
	total, err := s.check(ctx, token)
	if err != nil {
		return Status{}, err
	}
	if token != src.RFToken {
		src.RFToken = token
		if _, err := s.d.Sources.Save(ctx, src); err != nil {
			return Status{}, err
		}
	}
	j, err := s.create(ctx, src.ID, req, total)
	if err != nil {
		return Status{}, err
	}
	s.d.Log.Info("backfill started", slog.String("source", src.ID), slog.String("mode", req.Mode),
		slog.Int64("campaign", req.CampaignID), slog.Int("total", total))
	st := j.view()
	st.HasToken = true
	return st, nil
}

// check makes one API call with token, within the account's window, to
// refuse a token Referral Factory refuses before anything is stored. It
// returns the account's user count. An answer that says nothing of the
// token (rate limited, down) lets the job start: it waits its turn.
func (s *Service) check(ctx context.Context, token string) (int, error) {
	w := s.window(token)
	wait, err := w.Take(ctx)
	if err != nil {
		return 0, err
	}
	if wait > 0 {
		return 0, nil
	}
	page, err := s.d.RF.Account(token).Users(ctx, 1, 1)
	var auth *referralfactory.AuthError
	switch {
	case errors.As(err, &auth):
		return 0, apperr.New(apperr.Unprocessable, "Referral Factory refused the API token ("+strconv.Itoa(auth.StatusCode)+" "+
			auth.Message+"). Copy the token from Referral Factory (Settings → API); generating a new token there stops the old one working.")
	case err != nil:
		s.pauseFor(ctx, w, err)
		return 0, nil
	}
	return page.Meta.Total, nil
}

// window is the call budget of the account token belongs to.
func (s *Service) window(token string) *ratelimit.Window {
	return ratelimit.NewWindow(s.d.Redis, "rf:"+tenants.HashSecret(token)[:24], s.cfg.Calls, s.cfg.Period, s.d.Clock)
}

// pauseFor pauses the account's window for as long as a 429 or an IP block
// says, for every replica.
func (s *Service) pauseFor(ctx context.Context, w *ratelimit.Window, err error) {
	var rl *referralfactory.RateLimitError
	var bl *referralfactory.BlockedError
	switch {
	case errors.As(err, &rl):
		_ = w.Pause(ctx, rl.Delay())
	case errors.As(err, &bl):
		_ = w.Pause(ctx, bl.Delay())
	}
}

// Status reports the source's job (the last one, when none runs) and its
// daily reconcile.
func (s *Service) Status(ctx context.Context, src tenants.Source) (Status, error) {
	j, err := s.load(ctx, src.ID)
	if err != nil {
		return Status{}, err
	}
	st := j.view()
	st.HasToken = src.RFToken != ""
	st.Daily, err = s.daily(ctx, src.ID)
	return st, err
}

// ForgetToken removes the API token the source holds. A running job stops
// at its next page.
func (s *Service) ForgetToken(ctx context.Context, src tenants.Source) error {
	if src.RFToken == "" {
		return nil
	}
	src.RFToken = ""
	_, err := s.d.Sources.Save(ctx, src)
	return err
}
