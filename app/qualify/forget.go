package qualify

import (
	"context"
	"slices"
	"strings"

	"github.com/refhub/refhub/app/hshooks"
	"github.com/refhub/refhub/internal/redisscan"
	"github.com/refhub/refhub/tenants"
)

// Forget deletes the referral claims of a portal that name one of emails
// or contactIDs, and their queued qualifications (a person who asked to be
// forgotten is not reported to Referral Factory afterwards). It returns
// how many it deleted.
func (s *Sender) Forget(ctx context.Context, hub int64, emails, contactIDs []string) (int, error) {
	prefix := tenants.PortalKey(hub, "qual:")
	var keys []string
	err := redisscan.Each(ctx, s.Redis, prefix+"*", func(key string) error {
		v, err := s.Redis.HMGet(ctx, key, "email", "contact").Result()
		if err != nil {
			return err
		}
		email, _ := v[0].(string)
		contact, _ := v[1].(string)
		if email != "" && slices.ContainsFunc(emails, func(e string) bool { return strings.EqualFold(e, email) }) ||
			contact != "" && slices.Contains(contactIDs, contact) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(keys), s.drop(ctx, hub, keys)
}

// PurgePortal removes a deleted portal's referral claims, their queued
// qualifications, the deal stages watched there and the markers of the
// HubSpot events handled for it.
func (s *Sender) PurgePortal(ctx context.Context, hub int64) error {
	if err := s.purge(ctx, hub, ""); err != nil {
		return err
	}
	return hshooks.PurgePortal(ctx, s.Redis, hub)
}

// PurgeSource removes a deleted source's rule, and its referral claims and
// queued qualifications on the portals it sent to.
func (s *Sender) PurgeSource(ctx context.Context, src tenants.Source) error {
	if err := s.Rules.Delete(ctx, src.ID); err != nil {
		return err
	}
	for _, hub := range src.AllPortals() {
		if err := s.purge(ctx, hub, src.ID); err != nil {
			return err
		}
	}
	return nil
}

// purge deletes the claims of a portal (of one source, if source is set).
func (s *Sender) purge(ctx context.Context, hub int64, source string) error {
	prefix := tenants.PortalKey(hub, "qual:")
	pattern := prefix + "*"
	if source != "" {
		pattern = prefix + source + ":*"
	}
	keys, err := redisscan.Keys(ctx, s.Redis, pattern)
	if err != nil {
		return err
	}
	if source == "" {
		keys = append(keys, dealStagesKey(hub))
	}
	return s.drop(ctx, hub, keys)
}

// drop deletes claim keys of a portal and their queued work.
func (s *Sender) drop(ctx context.Context, hub int64, keys []string) error {
	prefix := tenants.PortalKey(hub, "qual:")
	pipe := s.Redis.Pipeline() // two slots: not a transaction
	for _, k := range keys {
		pipe.Del(ctx, k)
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			src, code, _ := strings.Cut(rest, ":")
			pipe.ZRem(ctx, dueKey, job{H: hub, S: src, C: code}.member())
		}
	}
	_, err := pipe.Exec(ctx)
	return err
}
