package deals

import (
	"context"
	"fmt"

	"github.com/refhub/refhub/hubspot"
)

// upsert writes idx the way of a repeat: the settings checked against the
// portal's pipelines, the deals read by key, upserted by key under the
// duplicate policy (never moving a stage back), then associated.
func (w *writer) upsert(ctx context.Context, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	pipes, err := w.s.pipelines(ctx, w.hub, w.api, w.ins, idx)
	if err != nil {
		return err
	}
	var valid []int
	readProps := []string{"pipeline", "dealstage"}
	for _, i := range idx {
		if serr := checkSettings(pipes, w.ins[i].Settings); serr != nil {
			w.failed[i] = serr
			continue
		}
		valid = append(valid, i)
		for k := range w.ins[i].Props {
			readProps = append(readProps, k)
		}
	}
	if len(valid) == 0 {
		return nil
	}
	order, groups := w.byKey(valid)
	var existing map[string]hubspot.Deal
	if ok, err := w.try(ctx, valid, func() (err error) {
		existing, err = w.api.ReadDeals(ctx, KeyProperty, order, dedupe(readProps))
		return err
	}); !ok {
		return err
	}
	var upserts []hubspot.DealInput
	for _, k := range order {
		idx := groups[k]
		old, exists := existing[k]
		props := propsToSend(w.ins[idx[len(idx)-1]], old, exists, pipes)
		if props == nil {
			for _, i := range idx {
				w.done[i] = Result{DealID: old.ID}
			}
			continue
		}
		upserts = append(upserts, hubspot.DealInput{Key: k, Properties: props})
	}
	if len(upserts) > 0 {
		var res *hubspot.DealUpsertResult
		if ok, err := w.try(ctx, valid, func() (err error) {
			res, err = w.api.UpsertDeals(ctx, KeyProperty, upserts)
			return err
		}); !ok {
			return err
		}
		for _, u := range upserts {
			_, existed := existing[u.Key]
			for _, i := range groups[u.Key] {
				if ferr, ok := res.Failed[u.Key]; ok {
					w.failed[i] = keyRefused(ferr)
				} else if d, ok := res.Deals[u.Key]; ok {
					w.done[i] = Result{DealID: d.ID, Created: !existed}
				} else {
					w.failed[i] = fmt.Errorf("HubSpot's answer did not include the deal %s", u.Key)
				}
			}
		}
	}
	return associate(ctx, w.api, w.ins, valid, w.done, w.failed)
}

// try runs call (once more after recreating the key property, if HubSpot
// refused it for lack of it) and reports whether to go on. A refusal of
// the whole batch fails the inputs idx not yet written — their contacts
// are written: each deal is dead-lettered with the reason, not the batch
// retried; any other error concerns the batch.
func (w *writer) try(ctx context.Context, idx []int, call func() error) (bool, error) {
	err := w.retryOnce(ctx, call)
	if refusedWhole(err) {
		for _, i := range idx {
			if _, written := w.done[i]; !written {
				w.failed[i] = keyRefused(err)
			}
		}
		return false, nil
	}
	return err == nil, err
}

// associate gives every deal of idx written HubSpot's default association
// with its contact (one call: a batch has at most MaxBatch deals).
func associate(ctx context.Context, api API, ins []Input, idx []int, done map[int]Result, failed map[int]error) error {
	var pairs []hubspot.ObjectPair
	var owners [][]int
	at := map[hubspot.ObjectPair]int{}
	for _, i := range idx {
		r, ok := done[i]
		if !ok || r.DealID == "" || ins[i].ContactID == "" {
			continue
		}
		pr := hubspot.ObjectPair{FromID: r.DealID, ToID: ins[i].ContactID}
		if j, ok := at[pr]; ok {
			owners[j] = append(owners[j], i)
			continue
		}
		at[pr] = len(pairs)
		pairs = append(pairs, pr)
		owners = append(owners, []int{i})
	}
	if len(pairs) == 0 {
		return nil
	}
	res, err := api.AssociateDefault(ctx, hubspot.ObjectDeals, hubspot.ObjectContacts, pairs)
	if err != nil {
		return err
	}
	for j, ferr := range res.Failed {
		for _, i := range owners[j] {
			delete(done, i)
			failed[i] = &AssociationError{Err: ferr}
		}
	}
	return nil
}
