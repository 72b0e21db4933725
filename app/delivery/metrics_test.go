package delivery_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// TestDeliveryFailuresAreCountedByClass: a failed round is counted under
// the class that decides what delivery does next.
func TestDeliveryFailuresAreCountedByClass(t *testing.T) {
	for _, tc := range []struct {
		class string
		fail  func(env *apptest.Env)
	}{
		{"retry", func(env *apptest.Env) { env.Sim.SetFaults(hubspottest.Faults{ErrorRate: 1, Statuses: []int{503}}) }},
		{"rate_limited", func(env *apptest.Env) { env.Sim.SetFaults(hubspottest.Faults{ErrorRate: 1, Statuses: []int{429}}) }},
		{"reconnect", func(env *apptest.Env) { env.Sim.Uninstall(1001) }},
	} {
		t.Run(tc.class, func(t *testing.T) {
			env := apptest.Start(t, apptest.Options{})
			b := env.Install(1001, 501)
			src := b.CreateSource(1001, "Main")
			for _, c := range []string{"retry", "rate_limited", "reconnect", "internal", "bad"} {
				assert.Zero(t, env.Metric("refhub_delivery_failures_total", "class", c), "%s is there from the start", c)
			}
			tc.fail(env)
			apptest.PostMany(t, src.WebhookURL, apptest.Signups("f", 1, ""), 1)
			worked, _, err := env.App.Engine().RunOnce(context.Background())
			require.NoError(t, err)
			require.True(t, worked)
			for _, c := range []string{"retry", "rate_limited", "reconnect", "internal", "bad"} {
				want := 0.0
				if c == tc.class {
					want = 1
				}
				assert.Equal(t, want, env.Metric("refhub_delivery_failures_total", "class", c), c)
			}
		})
	}
}
