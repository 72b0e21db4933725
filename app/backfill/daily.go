package backfill

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/tenants"
)

// ChoreName is the queue chore under which one replica at a time starts
// the daily reconciles that are due ({lanes}:chore:<name>).
const ChoreName = "backfill-daily"

// ChoreEvery is how often a replica tries to take the chore.
const ChoreEvery = 10 * time.Minute

// SetDaily turns the source's daily reconcile on (of campaign, 0: every
// campaign) or off. On needs an API token held by the source.
func (s *Service) SetDaily(ctx context.Context, src tenants.Source, on bool, campaign int64) (Status, error) {
	if on {
		if src.RFToken == "" {
			return Status{}, apperr.New(apperr.Unprocessable, "the source holds no Referral Factory API token: start a backfill or reconcile with rf_api_token first")
		}
		if campaign < 0 {
			return Status{}, apperr.New(apperr.Unprocessable, "campaign_id is a Referral Factory campaign id (a positive number)")
		}
		pipe := s.d.Redis.TxPipeline()
		pipe.HSet(ctx, dailyKey(src.ID), "campaign", campaign)
		pipe.SAdd(ctx, dailySet, src.ID)
		if _, err := pipe.Exec(ctx); err != nil {
			return Status{}, err
		}
	} else if err := s.purgeDaily(ctx, src.ID); err != nil {
		return Status{}, err
	}
	return s.Status(ctx, src)
}

// daily returns the source's daily reconcile, nil when off.
func (s *Service) daily(ctx context.Context, src string) (*Daily, error) {
	h, err := s.d.Redis.HGetAll(ctx, dailyKey(src)).Result()
	if err != nil || len(h) == 0 {
		return nil, err
	}
	c, _ := strconv.ParseInt(h["campaign"], 10, 64)
	d := &Daily{CampaignID: c}
	if t := fromMS(h["last"]); !t.IsZero() {
		d.LastRun = &t
	}
	return d, nil
}

// StartDue starts the reconcile of every source whose daily reconcile last
// started a day ago or more (and is not running). It returns how many it
// started. The chore runs it on one replica at a time.
func (s *Service) StartDue(ctx context.Context) (int, error) {
	srcs, err := s.d.Redis.SMembers(ctx, dailySet).Result()
	if err != nil {
		return 0, err
	}
	now := s.d.Clock.Now()
	started := 0
	for _, id := range srcs {
		d, err := s.daily(ctx, id)
		if err != nil {
			return started, err
		}
		if d != nil && d.LastRun != nil && now.Sub(*d.LastRun) < 24*time.Hour-ChoreEvery {
			continue
		}
		src, err := s.d.Store.Source(ctx, id)
		if err != nil || d == nil || src.RFToken == "" {
			// Deleted, or its token was removed: the schedule goes too.
			if err == nil || isNotFound(err) {
				_ = s.purgeDaily(ctx, id)
			}
			continue
		}
		if cur, err := s.load(ctx, id); err != nil || cur.Status == Running {
			continue
		}
		s.d.Redis.HSet(ctx, dailyKey(id), "last", now.UnixMilli())
		if _, err := s.create(ctx, id, Request{Mode: Reconcile, CampaignID: d.CampaignID}, 0); err != nil {
			s.d.Log.Warn("start a daily reconcile", slog.String("source", id), slog.Any("err", err))
			continue
		}
		started++
	}
	return started, nil
}

func (s *Service) purgeDaily(ctx context.Context, src string) error {
	pipe := s.d.Redis.Pipeline()
	pipe.Del(ctx, dailyKey(src))
	pipe.SRem(ctx, dailySet, src)
	_, err := pipe.Exec(ctx)
	return err
}

// Chores takes the daily chore every ChoreEvery (on one replica at a
// time, through take) and starts the reconciles that are due, until ctx
// ends.
func (s *Service) Chores(ctx context.Context, take func(ctx context.Context, name string, period time.Duration) (bool, error)) {
	for {
		if mine, err := take(ctx, ChoreName, ChoreEvery); err == nil && mine {
			if n, err := s.StartDue(ctx); err != nil {
				s.d.Log.Warn("daily reconciles", slog.Any("err", err))
			} else if n > 0 {
				s.d.Log.Info("daily reconciles started", slog.Int("sources", n))
			}
		}
		if sleep(ctx, ChoreEvery) != nil {
			return
		}
	}
}
