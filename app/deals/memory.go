package deals

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/refhub/refhub/tenants"
)

// The memory is a hash per portal of the deal keys refhub has written:
// field a keyed hash of the key, value the deal id. A key may hold a
// person's email; keyed with the app's secret, the hash neither holds it
// nor lets whoever reads Redis confirm a guess of it (a forgotten person's
// entry says nothing about them). A key it holds is a repeat (read,
// upsert, associate); any other is created in one call. It is an
// optimization only: a key it forgot (Redis lost it, another replica wrote
// the deal) is created, HubSpot refuses the duplicate by the unique key
// property, and the deal takes the way of a repeat.
func memoryKey(hub int64) string { return tenants.PortalKey(hub, "deals:written") }

// memoryField is the field of a deal key: 128 bits of its HMAC-SHA-256.
func (s *Service) memoryField(key string) string {
	m := hmac.New(sha256.New, s.memKey)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// remembered reports, by index in ins, the keys refhub has written.
func (s *Service) remembered(ctx context.Context, hub int64, ins []Input) (map[int]bool, error) {
	fields := make([]string, len(ins))
	for i, in := range ins {
		fields[i] = s.memoryField(in.Key)
	}
	vals, err := s.rdb.HMGet(ctx, memoryKey(hub), fields...).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[int]bool, len(ins))
	for i, v := range vals {
		if id, ok := v.(string); ok && id != "" {
			out[i] = true
		}
	}
	return out, nil
}

// remember stores the keys of the deals written.
func (s *Service) remember(ctx context.Context, hub int64, ins []Input, done map[int]Result) error {
	var pairs []any
	for i, r := range done {
		if r.DealID != "" {
			pairs = append(pairs, s.memoryField(ins[i].Key), r.DealID)
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return s.rdb.HSet(ctx, memoryKey(hub), pairs...).Err()
}
