package deals

import (
	"context"
	"errors"
	"strconv"

	"github.com/refhub/refhub/hubspot"
)

// create makes the deals of idx (keys refhub has not written) in one batch
// create, each with its contact association inline. It returns the
// inputs HubSpot refused — one by one, or the whole batch — for the way of
// a repeat, which finds a deal that exists after all and classifies what
// is really wrong (an unknown stage, an invalid amount) as it always has.
func (w *writer) create(ctx context.Context, idx []int) (refused []int, err error) {
	if len(idx) == 0 {
		return nil, nil
	}
	order, groups := w.byKey(idx)
	inputs := make([]hubspot.DealCreateInput, len(order))
	for j, k := range order {
		g := groups[k]
		in := w.ins[g[len(g)-1]]
		inputs[j] = hubspot.DealCreateInput{TraceID: "d" + strconv.Itoa(j), Properties: newDealProps(in), ContactID: in.ContactID}
	}
	var res *hubspot.DealCreateResult
	err = w.retryOnce(ctx, func() (err error) {
		res, err = w.api.CreateDeals(ctx, KeyProperty, inputs)
		return err
	})
	if refusedWhole(err) {
		return idx, nil
	}
	if err != nil {
		return nil, err
	}
	var again []int
	for j, k := range order {
		d, ok := res.Created[inputs[j].TraceID]
		switch {
		case ok:
			// Every referral of the key shares the deal; the ones whose
			// contact differs from the one associated inline are associated
			// the way of a repeat.
			for _, i := range groups[k] {
				if w.ins[i].ContactID == inputs[j].ContactID {
					w.done[i] = Result{DealID: d.ID, Created: true}
				} else {
					refused = append(refused, i)
				}
			}
		case keyMissing(res.Failed[inputs[j].TraceID]) && !w.recreated:
			again = append(again, groups[k]...)
		default:
			refused = append(refused, groups[k]...)
		}
	}
	if len(again) > 0 {
		if err := w.recreateKeyProperty(ctx); err != nil {
			return nil, err
		}
		more, err := w.create(ctx, again)
		if err != nil {
			return nil, err
		}
		refused = append(refused, more...)
	}
	return refused, nil
}

// newDealProps is everything a new deal is written with: the mapped and
// default fields, the name, the pipeline and stage, and its key.
func newDealProps(in Input) map[string]string {
	out := make(map[string]string, len(in.Props)+3)
	for k, v := range in.Props {
		out[k] = v
	}
	out["pipeline"], out["dealstage"], out[KeyProperty] = in.Settings.Pipeline, in.Settings.Stage, in.Key
	return out
}

// refusedWhole reports whether HubSpot refused a batch as a whole for what
// it holds (a 400 or a 409), rather than for the call (rate limit,
// authorization, an outage), which the caller retries.
func refusedWhole(err error) bool {
	var ve *hubspot.ValidationError
	var ce *hubspot.ConflictError
	return errors.As(err, &ve) || errors.As(err, &ce)
}
