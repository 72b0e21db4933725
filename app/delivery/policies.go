package delivery

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// API is the part of a HubSpot portal delivery uses.
type API interface {
	UpsertByEmail(ctx context.Context, inputs []hubspot.UpsertInput) (*hubspot.UpsertResult, error)
	ReadByEmail(ctx context.Context, emails []string, properties []string) (map[string]hubspot.Contact, error)
	ReadByID(ctx context.Context, ids []string, properties []string) (map[string]hubspot.Contact, error)
	Create(ctx context.Context, inputs []hubspot.CreateInput) (*hubspot.CreateResult, error)
	Update(ctx context.Context, inputs []hubspot.UpdateInput) (map[string]hubspot.Contact, []string, error)
}

// CallsFor is how many HubSpot calls a batch of the policy needs at most
// (README.md, "Duplicate policies": 1 for update, 2 for skip, 2-3 for
// fill_empty): the slots a round reserves, and what divides a portal's
// ceiling of contacts per second.
func CallsFor(p tenants.Policy) int {
	switch p {
	case tenants.Skip:
		return 2
	case tenants.FillEmpty:
		return 3
	}
	return 1
}

// send delivers ws under policy; it returns an error that concerns every
// work still without a result (HubSpot down, rate limited, token refused).
func send(ctx context.Context, api API, policy tenants.Policy, ws []*work) error {
	switch policy {
	case tenants.Skip:
		return sendSkip(ctx, api, ws)
	case tenants.FillEmpty:
		return sendFillEmpty(ctx, api, ws)
	}
	return sendUpdate(ctx, api, ws)
}

func failWith(w *work, err error) { w.fail(explain(err, w.props)) }

// settleItemError settles an input HubSpot reported as failed on its own: a
// validation error dead-letters it, anything else is retried.
func settleItemError(w *work, err error) {
	var ve *hubspot.ValidationError
	if errors.As(err, &ve) {
		failWith(w, err)
		return
	}
	w.retryErr = err
}

// sendUpdate: one batch upsert by email creates new contacts and
// overwrites the mapped fields of existing ones.
func sendUpdate(ctx context.Context, api API, ws []*work) error {
	return isolate(ctx, ws, func(ctx context.Context, ws []*work) error {
		inputs := make([]hubspot.UpsertInput, len(ws))
		for i, w := range ws {
			inputs[i] = hubspot.UpsertInput{Email: w.email, Properties: w.props}
		}
		res, err := api.UpsertByEmail(ctx, inputs)
		if err != nil {
			return err
		}
		for _, w := range ws {
			c, ok := res.Contacts[w.email]
			switch {
			case ok && c.New:
				w.deliver(queue.Created, c.ID)
			case ok:
				w.deliver(queue.Updated, c.ID)
			case res.Failed[w.email] != nil:
				settleItemError(w, res.Failed[w.email])
			default:
				w.retryErr = errMissingFromAnswer(w.email)
			}
		}
		return nil
	}, failWith)
}

// sendSkip: read which emails exist, create the others; existing contacts
// are never modified.
func sendSkip(ctx context.Context, api API, ws []*work) error {
	existing, err := readExisting(ctx, api, ws, []string{"email"})
	if err != nil {
		return err
	}
	var fresh []*work
	for _, w := range pending(ws) {
		if c, ok := existing[w.email]; ok {
			w.deliver(queue.Skipped, c.ID)
		} else {
			fresh = append(fresh, w)
		}
	}
	return create(ctx, api, fresh, func(w *work, id string) { w.deliver(queue.Skipped, id) })
}

// sendFillEmpty: read existing contacts with the mapped properties, create
// new ones, and on existing ones set only the properties that are empty.
func sendFillEmpty(ctx context.Context, api API, ws []*work) error {
	props := mappedProperties(ws)
	existing, err := readExisting(ctx, api, ws, props)
	if err != nil {
		return err
	}
	var fresh []*work
	conflicts := map[string][]*work{}
	var toFill []*work
	for _, w := range pending(ws) {
		if c, ok := existing[w.email]; ok {
			if planFill(w, c) {
				toFill = append(toFill, w)
			}
		} else {
			fresh = append(fresh, w)
		}
	}
	err = create(ctx, api, fresh, func(w *work, id string) { conflicts[id] = append(conflicts[id], w) })
	if err != nil {
		return err
	}
	if len(conflicts) > 0 {
		// The email belongs to a contact the read did not find (created
		// meanwhile, or held as a secondary email): read it by id.
		ids := make([]string, 0, len(conflicts))
		for id := range conflicts {
			ids = append(ids, id)
		}
		found, err := api.ReadByID(ctx, ids, props)
		if err != nil {
			return err
		}
		for id, list := range conflicts {
			for _, w := range list {
				if c, ok := found[id]; ok && planFill(w, c) {
					toFill = append(toFill, w)
				} else if !ok {
					w.retryErr = errors.New("HubSpot reported contact " + id + " for this email but could not return it")
				}
			}
		}
	}
	return fill(ctx, api, toFill)
}

// readExisting reads the contacts that exist for the works' emails. Should
// HubSpot refuse the read because of some emails, those works are set aside
// like refused writes (dead-lettered with the reason) and the rest read.
func readExisting(ctx context.Context, api API, ws []*work, props []string) (map[string]hubspot.Contact, error) {
	existing := map[string]hubspot.Contact{}
	err := isolate(ctx, ws, func(ctx context.Context, ws []*work) error {
		found, err := api.ReadByEmail(ctx, emails(ws), props)
		for k, c := range found {
			existing[k] = c
		}
		return err
	}, failWith)
	return existing, err
}

// planFill keeps in w only the properties empty on c. It returns false (and
// settles w as unchanged) when there is nothing to fill.
func planFill(w *work, c hubspot.Contact) bool {
	w.contactID = c.ID
	fill := map[string]string{}
	for k, v := range w.props {
		if k != "email" && strings.TrimSpace(c.Properties[k]) == "" {
			fill[k] = v
		}
	}
	if len(fill) == 0 {
		w.deliver(queue.Unchanged, c.ID)
		return false
	}
	w.props = fill
	return true
}

func fill(ctx context.Context, api API, ws []*work) error {
	return isolate(ctx, ws, func(ctx context.Context, ws []*work) error {
		inputs := make([]hubspot.UpdateInput, len(ws))
		for i, w := range ws {
			inputs[i] = hubspot.UpdateInput{ID: w.contactID, Properties: w.props}
		}
		updated, missing, err := api.Update(ctx, inputs)
		if err != nil {
			return err
		}
		gone := map[string]bool{}
		for _, id := range missing {
			gone[id] = true
		}
		for _, w := range ws {
			if _, ok := updated[w.contactID]; ok {
				w.deliver(queue.Filled, w.contactID)
			} else if gone[w.contactID] {
				w.retryErr = errors.New("contact " + w.contactID + " was merged or deleted in HubSpot meanwhile")
			} else {
				w.retryErr = errMissingFromAnswer(w.email)
			}
		}
		return nil
	}, failWith)
}

// create creates contacts, reporting per input. An input whose email turns
// out to exist already goes to onExists with the existing contact's id.
func create(ctx context.Context, api API, ws []*work, onExists func(w *work, id string)) error {
	onBad := func(w *work, err error) {
		var ce *hubspot.ConflictError
		if errors.As(err, &ce) {
			if ce.ExistingID == "" {
				w.retryErr = err // HubSpot did not say which contact; the next read will
				return
			}
			onExists(w, ce.ExistingID)
			return
		}
		failWith(w, err)
	}
	return isolate(ctx, ws, func(ctx context.Context, ws []*work) error {
		inputs := make([]hubspot.CreateInput, len(ws))
		for i, w := range ws {
			inputs[i] = hubspot.CreateInput{TraceID: "refhub-" + strconv.Itoa(i), Properties: w.props}
		}
		res, err := api.Create(ctx, inputs)
		if err != nil {
			return err
		}
		for i, w := range ws {
			trace := inputs[i].TraceID
			if c, ok := res.Created[trace]; ok {
				w.deliver(queue.Created, c.ID)
			} else if ferr, ok := res.Failed[trace]; ok {
				var ve *hubspot.ValidationError
				var ce *hubspot.ConflictError
				if errors.As(ferr, &ve) || errors.As(ferr, &ce) {
					onBad(w, ferr)
				} else {
					w.retryErr = ferr
				}
			} else {
				w.retryErr = errMissingFromAnswer(w.email)
			}
		}
		return nil
	}, onBad)
}

func emails(ws []*work) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.email
	}
	return out
}
