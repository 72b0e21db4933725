package qualify

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/hshooks"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// HandleHubSpotEvent queues the qualification a property change meets:
// a contact's property reaching a rule's value for the lead it is, or a
// deal reaching a stage some rule watches (its contacts are read later,
// with retries, by Step).
func (s *Sender) HandleHubSpotEvent(ctx context.Context, ev hshooks.Event) error {
	if ev.Action() != "propertyChange" || ev.PropertyValue == nil {
		return nil
	}
	switch ev.Object() {
	case Contact:
		lead, ok, err := s.Leads.ByContact(ctx, ev.PortalID, strconv.FormatInt(ev.ObjectID, 10))
		if err != nil || !ok {
			return err
		}
		return s.consider(ctx, ev.PortalID, lead, Contact, ev.PropertyName, ev.Value())
	case Deal:
		if ev.PropertyName != "dealstage" {
			return nil
		}
		watched, err := s.Redis.SIsMember(ctx, dealStagesKey(ev.PortalID), ev.Value()).Result()
		if err != nil || !watched {
			return err
		}
		j := job{H: ev.PortalID, D: strconv.FormatInt(ev.ObjectID, 10), V: ev.Value(), T: s.Now().UnixMilli()}
		if err := s.Redis.ZAddNX(ctx, dueKey, redis.Z{Score: float64(j.T), Member: j.member()}).Err(); err != nil {
			return err
		}
		s.poke()
	}
	return nil
}

// consider queues the lead's qualification if its source's rule is met.
func (s *Sender) consider(ctx context.Context, hub int64, lead Lead, object, property, value string) error {
	rule, ok, err := s.Rules.Get(ctx, lead.Source)
	if err != nil || !ok || !rule.Matches(object, property, value) {
		return err
	}
	return s.Enqueue(ctx, hub, lead, object+" "+property+" = "+value)
}

// deal reads the contacts of a deal whose stage changed and queues the
// qualification of each that is a lead whose rule the stage meets.
// HubSpot failures are retried until RetryFor; a portal that did not grant
// deal access is skipped (its rule's view asks for a reconnect).
func (s *Sender) deal(ctx context.Context, member string, j job) error {
	contacts, err := s.Deals.DealContacts(ctx, j.H, j.D)
	if err != nil {
		first := time.UnixMilli(j.T)
		var re *oauth.ReconnectError
		var ae *hubspot.APIError
		permanent := errors.As(err, &re) || errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 && ae.StatusCode != 429
		if permanent || s.Now().Sub(first) >= s.RetryFor {
			s.Redis.ZRem(ctx, dueKey, member)
			s.results.WithLabelValues("deal_unreadable").Inc()
			s.Log.Warn("qualification: the deal's contacts cannot be read", "portal", j.H, "deal", j.D, "err", err)
			return nil
		}
		wait := min(max(s.Now().Sub(first)/2, 30*time.Second), time.Hour)
		s.Redis.ZAddXX(ctx, dueKey, redis.Z{Score: float64(s.Now().Add(wait).UnixMilli()), Member: member})
		return err
	}
	for _, id := range contacts {
		lead, ok, err := s.Leads.ByContact(ctx, j.H, id)
		if err != nil {
			return err // the lease ends and the job is taken again
		}
		if ok {
			if err := s.consider(ctx, j.H, lead, Deal, "dealstage", j.V); err != nil {
				return err
			}
		}
	}
	return s.Redis.ZRem(ctx, dueKey, member).Err()
}

// WatchDealStage records that a rule watches stage on the portals a source
// sends to.
func (s *Sender) WatchDealStage(ctx context.Context, src tenants.Source, stage string) error {
	for _, hub := range src.Portals() {
		if err := s.Redis.SAdd(ctx, dealStagesKey(hub), stage).Err(); err != nil {
			return err
		}
	}
	return nil
}

// HubSpotDeals reads a deal's contacts through HubSpot's associations API,
// with the portal's tokens and within its rate limit.
type HubSpotDeals struct {
	HubSpot *hubspot.Client
	Tokens  *oauth.Tokens
	Limiter *ratelimit.Limiter
}

// DealContacts returns the ids of the contacts associated with dealID.
func (h HubSpotDeals) DealContacts(ctx context.Context, hub int64, dealID string) ([]string, error) {
	p := h.HubSpot.Portal(hub, h.Tokens.Func(hub), h.Limiter)
	got, err := p.ReadAssociations(ctx, hubspot.ObjectDeals, hubspot.ObjectContacts, []string{dealID})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range got[dealID] {
		out = append(out, o.ID)
	}
	return out, nil
}
