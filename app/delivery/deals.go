package delivery

import (
	"context"
	"errors"
	"strings"

	"github.com/refhub/refhub/app/deals"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// Deals is what delivery asks of app/deals once a batch's contacts are
// written: upsert each referral's deal and associate it with its contact.
type Deals interface {
	Write(ctx context.Context, hub int64, api deals.API, ins []deals.Input) (map[int]deals.Result, map[int]error, error)
}

var _ Deals = (*deals.Service)(nil)

// dealFor is the deal a signup of src asks for beside its contact, or nil.
func dealFor(src *tenants.Source, lead bool, identity string, policy tenants.Policy, p tenants.Lookup) *deals.Input {
	if !src.Deals.For(lead) || identity == "" {
		return nil
	}
	return &deals.Input{Key: deals.Key(src.ID, identity), Settings: src.Deals, Props: src.Deals.DealProperties(p), Policy: policy}
}

// dealCalls is how many calls beyond the contact writes a batch reserves
// for its deals.
func (e *Engine) dealCalls(b *batch) int {
	if e.deals == nil || !b.dealish {
		return 0
	}
	return deals.CallsPerBatch
}

// followDeals writes the deals of the batch's written contacts. A deal
// HubSpot or the settings refused is dead-lettered with the reason (its
// contact is written: a replay writes the deal). An error that concerns
// the whole batch puts every written contact back to retry, like a failed
// contact write.
func (e *Engine) followDeals(ctx context.Context, hub int64, api deals.API, b *batch) error {
	if e.deals == nil || !b.dealish {
		return nil
	}
	var ins []deals.Input
	var owner []*work
	for _, w := range b.works {
		if !w.done || w.bad != nil || w.contactID == "" || w.outcome == queue.Superseded || w.deal == nil {
			continue
		}
		if len(b.missingScopes) > 0 {
			w.undo(Reason{Code: "DEALS_NEED_RECONNECT",
				Text: "The contact is in HubSpot, but its deal was not made: this portal was installed before refhub wrote deals and has not granted " +
					strings.Join(b.missingScopes, ", ") + ".",
				Fix: "Reconnect the portal (install refhub again in it) to enable deals." + replayHint})
			continue
		}
		in := *w.deal
		in.ContactID = w.contactID
		ins, owner = append(ins, in), append(owner, w)
	}
	if len(ins) == 0 {
		return nil
	}
	done, failed, err := e.deals.Write(ctx, hub, api, ins)
	if err != nil {
		b.retryAll()
		return err
	}
	for i, ferr := range failed {
		owner[i].undo(explainDeal(ferr, ins[i].Props))
	}
	for i, r := range done {
		owner[i].dealID = r.DealID
	}
	return nil
}

// explainDeal is the reason of a deal that could not be written.
func explainDeal(err error, props map[string]string) Reason {
	const lead = "The contact is in HubSpot, but its deal was refused: "
	var se *deals.SettingsError
	if errors.As(err, &se) {
		return Reason{Code: se.Code, Text: se.Text, Fix: se.Fix}
	}
	var ae *deals.AssociationError
	if errors.As(err, &ae) {
		return Reason{Code: "DEAL_NOT_ASSOCIATED",
			Text: "The contact and its deal are in HubSpot, but HubSpot refused to associate them: " + ae.Err.Error() + ".",
			Fix:  "Replay this dead letter: the association is made again (the contact may have been deleted or merged meanwhile)."}
	}
	r := explain(err, props)
	r.Text = lead + r.Text
	var ve *hubspot.ValidationError
	if errors.As(err, &ve) {
		r.Fix = "This is one of the source's deal fields or default values (its deal settings): " + r.Fix
		if r.Code == "" || r.Code == "VALIDATION_ERROR" {
			r.Code = "DEAL_REJECTED"
		}
	}
	return r
}
