package deals_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/deals"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

const hub = int64(1001)

// world is refhub on simulated time with one installed portal, a source
// and a second deal pipeline ("Partners": p-new, p-talk, p-won) in the
// portal.
type world struct {
	t   *testing.T
	env *apptest.Env
	b   *apptest.Browser
	src apptest.Source
	ctx context.Context
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := apptest.Start(t, apptest.Options{Clock: apptest.NewClock()})
	env.Sim.AddPipeline(hub, hubspottest.Pipeline{ID: "partners", Label: "Partners", DisplayOrder: 1, Stages: []hubspottest.PipelineStage{
		{ID: "p-new", Label: "New referral", DisplayOrder: 0, Probability: 0.1},
		{ID: "p-talk", Label: "In talks", DisplayOrder: 1, Probability: 0.5},
		{ID: "p-won", Label: "Won", DisplayOrder: 2, Probability: 1, Closed: true},
	}})
	b := env.Install(hub, 501)
	src := b.CreateSource(hub, "Spring")
	return &world{t: t, env: env, b: b, src: src, ctx: context.Background()}
}

// settings are deal settings for leads in the Partners pipeline.
func settings(stage string) map[string]any {
	return map[string]any{
		"create_for": []string{"lead"}, "pipeline": "partners", "stage": stage,
		"name":     "Referral: {first_name} ({campaign_name})",
		"fields":   []map[string]string{{"from": "first_name", "to": "description"}},
		"defaults": map[string]string{"dealtype": "newbusiness", "amount": "250"},
	}
}

// putDeals saves deal settings and expects status want.
func (w *world) putDeals(body any, want int) []byte {
	w.t.Helper()
	status, resp := w.b.Do(http.MethodPut, "/api/v1/sources/"+w.src.ID+"/deals", body)
	require.Equal(w.t, want, status, string(resp))
	return resp
}

func (w *world) send(body string) {
	w.t.Helper()
	status, resp := apptest.Post(w.t, w.src.WebhookURL, "application/json", []byte(body))
	require.Equal(w.t, http.StatusAccepted, status, string(resp))
}

func referrer(id int, email, code string) string {
	return fmt.Sprintf(`{"id":%d,"campaign_id":7,"campaign_name":"Spring","referrer_id":null,"code":%q,"first_name":"Ref","email":%q,"source":"Direct","type":"person_referring","signed_up_at":"2026-03-09T10:00:00.000000Z","qualified_at":null}`,
		id, code, email)
}

func lead(id int, first, email, code string) string {
	return fmt.Sprintf(`{"id":%d,"campaign_id":7,"campaign_name":"Spring","referrer_id":100,"code":%q,"first_name":%q,"email":%q,"source":"Referred","type":"person_invited","signed_up_at":"2026-03-09T11:00:00.000000Z","qualified_at":null,"referrer_email":"ref@example.com","referrer_code":"REF1"}`,
		id, code, first, email)
}

func (w *world) drain() {
	w.t.Helper()
	w.env.DeliverFor(w.ctx, 2*time.Minute)
}

func (w *world) contact(email string) hubspottest.Contact {
	w.t.Helper()
	c, ok := w.env.Sim.ContactByEmail(hub, email)
	require.True(w.t, ok, "no contact %s in HubSpot", email)
	return c
}

// dealOf finds the deal refhub made for Referral Factory user id.
func (w *world) dealOf(id int) (hubspottest.Deal, bool) {
	return w.env.Sim.DealByProperty(hub, deals.KeyProperty, deals.Key(w.src.ID, fmt.Sprintf("id:%d", id)))
}

// contactsOf returns the contacts HubSpot associates with each deal,
// read through its public API as a third party would.
func (w *world) contactsOf(ids ...string) map[string][]string {
	w.t.Helper()
	p := w.env.ThirdParty(hub, 501, "crm.objects.deals.read", "crm.objects.contacts.read")
	got, err := p.ReadAssociations(w.ctx, hubspot.ObjectDeals, hubspot.ObjectContacts, ids)
	require.NoError(w.t, err)
	out := map[string][]string{}
	for from, objs := range got {
		for _, o := range objs {
			out[from] = append(out[from], o.ID)
		}
	}
	return out
}
