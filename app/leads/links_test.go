package leads_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReferrerAndThreeLeads: a referrer and three leads become four
// contacts; each lead is linked to the referrer with the label pair refhub
// creates ("Referred by" from the lead, "Referrer" from the referrer), and
// the referrer's counts say 3 referrals, none converted.
func TestReferrerAndThreeLeads(t *testing.T) {
	w := newWorld(t)
	w.referrerAndLeads(3)

	require.Len(t, w.env.Sim.Contacts(hub), 4)
	ref := w.contact("ref@example.com")
	var ids []string
	for i := range 3 {
		ids = append(ids, w.contact("lead"+itoa(i)+"@example.com").ID)
	}
	links := w.referredBy(ids...)
	for _, id := range ids {
		assert.Equal(t, []string{ref.ID}, links[id], "lead %s is referred by the referrer", id)
		assert.Contains(t, w.labelsFrom(id, ref.ID), "Referred by")
		assert.Contains(t, w.labelsFrom(ref.ID, id), "Referrer")
	}
	n, q := w.counts("ref@example.com")
	assert.Equal(t, "3", n)
	assert.Equal(t, "0", q)
	assert.Equal(t, 1, w.env.Calls("associations.labels.create"), "the label pair is created once per portal")

	l, ok, err := w.env.App.Leads().ByContact(w.ctx, hub, ids[1])
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "L1", l.Code)
	assert.Equal(t, ref.ID, l.Referrer)
	assert.Equal(t, w.src.ID, l.Source)
	assert.Equal(t, "lead1@example.com", l.Email)
	_, ok, err = w.env.App.Leads().ByContact(w.ctx, hub, ref.ID)
	require.NoError(t, err)
	assert.False(t, ok, "a referrer is not a lead")
}
