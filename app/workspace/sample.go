package workspace

import (
	"context"
	"time"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/tenants"
)

// Sample is the signup a source's settings are previewed with: the last
// one Referral Factory sent, or a typical one while none arrived.
type Sample struct {
	Payload *payload.Payload
	At      time.Time // when the last signup arrived; zero for a typical one
	Typical bool
}

// Sample returns the signup the source's settings pages preview with.
func (o *Events) Sample(ctx context.Context, src tenants.Source) (Sample, error) {
	last, err := o.LastPayload(ctx, src)
	if err != nil || last == nil {
		return Sample{Payload: payload.New(TypicalSignup(1)), Typical: true}, err
	}
	return Sample{Payload: payload.New(last.Payload), At: last.ReceivedAt}, nil
}
