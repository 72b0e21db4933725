package tenants

import "context"

// ResealSource re-encrypts a source's webhook token and secret with the
// vault's primary key.
func (s *RedisStore) ResealSource(ctx context.Context, id string) error {
	src, err := s.Source(ctx, id)
	if err != nil {
		return err
	}
	return s.writeSource(ctx, src)
}
