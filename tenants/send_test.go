package tenants_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/tenants"
)

// TestSend: a source sends both kinds until told otherwise (sources saved
// before the choice existed included); a choice is saved with the source;
// anything but contacts or nothing is refused, naming the kind.
func TestSend(t *testing.T) {
	e, _, src := newSourceEnv(t)
	ctx := context.Background()
	assert.True(t, src.Sends(false))
	assert.True(t, src.Sends(true))
	assert.Equal(t, tenants.Send{Referrers: "contacts", Leads: "contacts"}, src.Send.Normalized())

	src.Send = tenants.Send{Referrers: tenants.SendNothing}
	_, err := e.store.SaveSource(ctx, src)
	require.NoError(t, err)
	got, err := e.store.Source(ctx, src.ID)
	require.NoError(t, err)
	assert.False(t, got.Sends(false), "referrers: nothing")
	assert.True(t, got.Sends(true), "leads: contacts, by default")
	assert.False(t, got.Send.Nothing())
	got.Send.Leads = tenants.SendNothing
	assert.True(t, got.Send.Nothing())

	for name, tc := range map[string]struct {
		send tenants.Send
		err  string
	}{
		"empty":      {send: tenants.Send{}},
		"both named": {send: tenants.Send{Referrers: "nothing", Leads: "contacts"}},
		"a deal is no choice here": {send: tenants.Send{Leads: "deal"},
			err: `invalid send settings: send.leads: "deal" is neither "contacts" nor "nothing"`},
		"both wrong": {send: tenants.Send{Referrers: "Nothing", Leads: "none"},
			err: `invalid send settings: send.referrers: "Nothing" is neither "contacts" nor "nothing"; send.leads: "none" is neither "contacts" nor "nothing"`},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.send.Validate()
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tc.err)
		})
	}
}
