package leads_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/leads"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

const hub = int64(1001)

// world is refhub on simulated time with one installed portal, a source
// whose mapping writes the referral codes and counts, and the recommended
// count properties in the portal.
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
	for _, p := range []string{"rf_referral_code", "rf_referral_count", "rf_converted_referral_count"} {
		typ, ft := "string", "text"
		if p != "rf_referral_code" {
			typ, ft = "number", "number"
		}
		env.Sim.AddProperty(hub, hubspottest.Property{Name: p, Label: p, Type: typ, FieldType: ft, GroupName: "contactinformation"})
	}
	b := env.Install(hub, 501)
	src := b.CreateSource(hub, "Spring")
	b.SetMapping(src.ID, apptest.Fields("email", "email", "first_name", "firstname", "code", "rf_referral_code",
		"referrals_count", "rf_referral_count", "converted_referrals_count", "rf_converted_referral_count"), nil, "update")
	return &world{t: t, env: env, b: b, src: src, ctx: context.Background()}
}

// send posts a Referral Factory-shaped webhook body to the source.
func (w *world) send(body string) {
	w.t.Helper()
	status, resp := apptest.Post(w.t, w.src.WebhookURL, "application/json", []byte(body))
	require.Equal(w.t, http.StatusAccepted, status, string(resp))
}

// sendDuplicate posts a body received before: refhub answers it is
// delivered once.
func (w *world) sendDuplicate(body string) {
	w.t.Helper()
	status, resp := apptest.Post(w.t, w.src.WebhookURL, "application/json", []byte(body))
	require.Equal(w.t, http.StatusOK, status, string(resp))
}

// referrer is the body of "A new referrer joins" for user id.
func referrer(id int, email, code string, counts string) string {
	return fmt.Sprintf(`{"id":%d,"campaign_id":7,"referrer_id":null,"code":%q,"first_name":"Ref","email":%q,"source":"Direct","type":"person_referring","signed_up_at":"2026-03-09T10:00:00.000000Z","qualified_at":null%s}`,
		id, code, email, counts)
}

// lead is the body of "A new lead is created" for user id, referred by
// the user refID (flat keys, as the simulator of Referral Factory sends).
func lead(id, refID int, email, code, refEmail, refCode string) string {
	return fmt.Sprintf(`{"id":%d,"campaign_id":7,"referrer_id":%d,"code":%q,"first_name":"Lead","email":%q,"source":"Referred","type":"person_invited","signed_up_at":"2026-03-09T11:00:00.000000Z","qualified_at":null,"referrer_email":%q,"referrer_code":%q,"referrals_count":0,"converted_referrals_count":0}`,
		id, refID, code, email, refEmail, refCode)
}

// referrerAndLeads delivers referrer 100 (ref@example.com, code REF1),
// then n leads naming it by user id, code and email (leadI@example.com,
// code LI).
func (w *world) referrerAndLeads(n int) {
	w.t.Helper()
	w.send(referrer(100, "ref@example.com", "REF1", ""))
	w.drain()
	for i := range n {
		w.send(lead(200+i, 100, "lead"+itoa(i)+"@example.com", "L"+itoa(i), "ref@example.com", "REF1"))
	}
	w.drain()
}

// drain delivers everything due on simulated time.
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

// portal reads HubSpot through its public API, as a third party would.
func (w *world) portal() *hubspot.Portal {
	return w.env.ThirdParty(hub, 501, "crm.objects.contacts.read", "crm.objects.contacts.write")
}

// referredBy returns, for each contact id, the contacts HubSpot links it
// to with the label "Referred by".
func (w *world) referredBy(ids ...string) map[string][]string {
	w.t.Helper()
	p := w.portal()
	pair, err := p.EnsureAssociationLabel(w.ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, leads.Label)
	require.NoError(w.t, err)
	got, err := p.ReadAssociations(w.ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, ids)
	require.NoError(w.t, err)
	out := map[string][]string{}
	for from, objs := range got {
		for _, o := range objs {
			if o.HasType(pair.Forward.Category, pair.Forward.TypeID) {
				out[from] = append(out[from], o.ID)
			}
		}
	}
	return out
}

// labelsFrom returns the labels of the associations of contact id with other.
func (w *world) labelsFrom(id, other string) []string {
	w.t.Helper()
	got, err := w.portal().ReadAssociations(w.ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, []string{id})
	require.NoError(w.t, err)
	var out []string
	for _, o := range got[id] {
		if o.ID == other {
			for _, t := range o.Types {
				if t.Label != "" {
					out = append(out, t.Label)
				}
			}
		}
	}
	return out
}

// counts returns the referral counts on a contact.
func (w *world) counts(email string) (string, string) {
	c := w.contact(email)
	return c.Properties["rf_referral_count"], c.Properties["rf_converted_referral_count"]
}

func itoa(i int) string { return strconv.Itoa(i) }
