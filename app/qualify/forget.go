package qualify

import (
	"context"
	"slices"
	"strings"

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
	for _, k := range keys {
		src, code, _ := strings.Cut(strings.TrimPrefix(k, prefix), ":")
		pipe := s.Redis.Pipeline() // two slots: not a transaction
		pipe.Del(ctx, k)
		pipe.ZRem(ctx, dueKey, job{H: hub, S: src, C: code}.member())
		if _, err := pipe.Exec(ctx); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
