package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// Object types as HubSpot names them in paths.
const (
	ObjectContacts = "contacts"
	ObjectDeals    = "deals"
)

// Association categories (AssociationSpec.associationCategory).
const (
	CategoryHubSpotDefined = "HUBSPOT_DEFINED"
	CategoryUserDefined    = "USER_DEFINED"
)

// TypeDealToContact is HubSpot's default (unlabeled) association type from
// a deal to a contact.
const TypeDealToContact = 3

// MaxAssociationRead is the most ids HubSpot accepts in one association
// batch read.
const MaxAssociationRead = 1000

// AssociationInput links one record to another with the given types.
type AssociationInput struct {
	FromID, ToID string
	Types        []AssociationType
}

// LinkedPair is a pair of records HubSpot reports as associated, with the
// labels now linking them from the first to the second.
type LinkedPair struct {
	FromID, ToID string
	Labels       []string
}

// AssociationResult is the outcome of a batch association: the pairs
// linked, and the inputs (by index) HubSpot refused, e.g. for a record that
// does not exist.
type AssociationResult struct {
	Linked []LinkedPair
	Failed map[int]error
}

// flexID accepts an id as a JSON string (as the 2026-03 spec has it) or a
// number (as HubSpot has long sent it).
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id %s is neither a string nor a number", b)
	}
	*f = flexID(n.String())
	return nil
}

type objectIDJSON struct {
	ID flexID `json:"id"`
}

// CreateAssociations associates records (batch create, up to MaxBatch
// inputs) with the given types, e.g. a lead and its referrer with a
// user-defined label. Associating twice is harmless.
func (p *Portal) CreateAssociations(ctx context.Context, fromType, toType string, inputs []AssociationInput) (*AssociationResult, error) {
	if err := checkBatch(len(inputs)); err != nil {
		return nil, err
	}
	type input struct {
		From  objectIDJSON `json:"from"`
		To    objectIDJSON `json:"to"`
		Types []assocSpec  `json:"types"`
	}
	body := struct {
		Inputs []input `json:"inputs"`
	}{Inputs: make([]input, len(inputs))}
	for i, in := range inputs {
		body.Inputs[i] = input{From: objectIDJSON{flexID(in.FromID)}, To: objectIDJSON{flexID(in.ToID)}}
		for _, t := range in.Types {
			body.Inputs[i].Types = append(body.Inputs[i].Types, assocSpec{t.Category, t.TypeID})
		}
	}
	var resp struct {
		Results []struct {
			FromObjectID flexID   `json:"fromObjectId"`
			ToObjectID   flexID   `json:"toObjectId"`
			Labels       []string `json:"labels"`
		} `json:"results"`
		Errors []errorBody `json:"errors"`
	}
	if _, err := p.call(ctx, http.MethodPost, p.c.associationsPath(fromType, toType, "/batch/create"), body, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: associate %s with %s: %w", p.hubID, fromType, toType, err)
	}
	var linked []LinkedPair
	for _, r := range resp.Results {
		linked = append(linked, LinkedPair{FromID: string(r.FromObjectID), ToID: string(r.ToObjectID), Labels: r.Labels})
	}
	return settlePairs(pairsOf(inputs), linked, resp.Errors), nil
}

// assocSpec is HubSpot's AssociationSpec.
type assocSpec struct {
	Category string `json:"associationCategory"`
	TypeID   int    `json:"associationTypeId"`
}

// ObjectPair names two records to associate with the default type.
type ObjectPair struct {
	FromID, ToID string
}

// AssociateDefault gives pairs of records HubSpot's default (unlabeled)
// association, e.g. each deal with its contact (batch associate/default,
// up to MaxBatch inputs).
func (p *Portal) AssociateDefault(ctx context.Context, fromType, toType string, pairs []ObjectPair) (*AssociationResult, error) {
	if err := checkBatch(len(pairs)); err != nil {
		return nil, err
	}
	type input struct {
		From objectIDJSON `json:"from"`
		To   objectIDJSON `json:"to"`
	}
	body := struct {
		Inputs []input `json:"inputs"`
	}{Inputs: make([]input, len(pairs))}
	for i, pr := range pairs {
		body.Inputs[i] = input{objectIDJSON{flexID(pr.FromID)}, objectIDJSON{flexID(pr.ToID)}}
	}
	var resp struct {
		Results []struct {
			From objectIDJSON `json:"from"`
			To   objectIDJSON `json:"to"`
		} `json:"results"`
		Errors []errorBody `json:"errors"`
	}
	if _, err := p.call(ctx, http.MethodPost, p.c.associationsPath(fromType, toType, "/batch/associate/default"), body, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: associate %s with %s (default): %w", p.hubID, fromType, toType, err)
	}
	var linked []LinkedPair
	for _, r := range resp.Results {
		linked = append(linked, LinkedPair{FromID: string(r.From.ID), ToID: string(r.To.ID)})
	}
	return settlePairs(pairs, linked, resp.Errors), nil
}

func pairsOf(inputs []AssociationInput) []ObjectPair {
	out := make([]ObjectPair, len(inputs))
	for i, in := range inputs {
		out[i] = ObjectPair{in.FromID, in.ToID}
	}
	return out
}

// settlePairs matches HubSpot's results and errors to the inputs: a result
// for the pair (either way round) links it; an error naming one of its ids
// fails it; an input neither linked nor named is failed too, so nothing is
// silently taken for done.
func settlePairs(pairs []ObjectPair, linked []LinkedPair, errs []errorBody) *AssociationResult {
	out := &AssociationResult{Failed: map[int]error{}}
	done := map[ObjectPair]bool{}
	for _, l := range linked {
		done[ObjectPair{l.FromID, l.ToID}] = true
		done[ObjectPair{l.ToID, l.FromID}] = true
	}
	for i, pr := range pairs {
		if done[pr] {
			continue
		}
		for _, e := range errs {
			if namesPair(e, pr) {
				out.Failed[i] = itemError(e)
				break
			}
		}
		if out.Failed[i] == nil {
			out.Failed[i] = fmt.Errorf("hubspot: no result for the association of %s with %s", pr.FromID, pr.ToID)
		}
	}
	for _, l := range linked {
		if slices.Contains(pairs, ObjectPair{l.FromID, l.ToID}) {
			out.Linked = append(out.Linked, l)
		}
	}
	return out
}

// namesPair reports whether a batch error is about this pair: by the from
// and to ids in its context, or by an id among "ids".
func namesPair(e errorBody, pr ObjectPair) bool {
	from, to := e.Context["fromObjectId"], e.Context["toObjectId"]
	if len(from) > 0 || len(to) > 0 {
		return (len(from) == 0 || slices.Contains(from, pr.FromID)) && (len(to) == 0 || slices.Contains(to, pr.ToID))
	}
	ids := e.Context["ids"]
	return slices.Contains(ids, pr.FromID) || slices.Contains(ids, pr.ToID)
}

// AssociatedObject is a record associated with another, and the types of
// the association (HubSpot's unlabeled default and any labels).
type AssociatedObject struct {
	ID    string
	Types []AssociationType
}

// maxAssociationPages bounds how many pages one read follows, so that a
// server repeating a cursor cannot keep the caller forever.
const maxAssociationPages = 50

// ReadAssociations returns, for each id (up to MaxAssociationRead), the
// records of toType it is associated with, following HubSpot's paging. Ids
// with no association are absent.
func (p *Portal) ReadAssociations(ctx context.Context, fromType, toType string, ids []string) (map[string][]AssociatedObject, error) {
	if len(ids) == 0 || len(ids) > MaxAssociationRead {
		return nil, fmt.Errorf("hubspot: association read of %d ids (must be 1 to %d)", len(ids), MaxAssociationRead)
	}
	out := make(map[string][]AssociatedObject, len(ids))
	type input struct {
		ID    string `json:"id"`
		After string `json:"after,omitempty"`
	}
	todo := make([]input, len(ids))
	for i, id := range ids {
		todo[i] = input{ID: id}
	}
	for page := 0; len(todo) > 0; page++ {
		if page == maxAssociationPages {
			return nil, fmt.Errorf("portal %d: read %s-%s associations: more than %d pages", p.hubID, fromType, toType, maxAssociationPages)
		}
		next, err := p.readAssociationPage(ctx, fromType, toType, todo, out)
		if err != nil {
			return nil, err
		}
		todo = todo[:0]
		for id, after := range next {
			todo = append(todo, input{ID: id, After: after})
		}
	}
	return out, nil
}

// readAssociationPage reads one page for each input into out and returns
// the cursors of the ids that have more.
func (p *Portal) readAssociationPage(ctx context.Context, fromType, toType string, inputs any, out map[string][]AssociatedObject) (map[string]string, error) {
	var resp struct {
		Results []struct {
			From objectIDJSON `json:"from"`
			To   []struct {
				ToObjectID       flexID      `json:"toObjectId"`
				AssociationTypes []labelJSON `json:"associationTypes"`
			} `json:"to"`
			Paging *struct {
				Next *struct {
					After string `json:"after"`
				} `json:"next"`
			} `json:"paging"`
		} `json:"results"`
		Errors []errorBody `json:"errors"`
	}
	body := struct {
		Inputs any `json:"inputs"`
	}{inputs}
	if _, err := p.call(ctx, http.MethodPost, p.c.associationsPath(fromType, toType, "/batch/read"), body, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: read %s-%s associations: %w", p.hubID, fromType, toType, err)
	}
	for _, e := range resp.Errors {
		if e.Category != "OBJECT_NOT_FOUND" {
			return nil, fmt.Errorf("portal %d: read %s-%s associations: %w", p.hubID, fromType, toType, itemError(e))
		}
	}
	next := map[string]string{}
	for _, r := range resp.Results {
		from := string(r.From.ID)
		for _, to := range r.To {
			obj := AssociatedObject{ID: string(to.ToObjectID)}
			for _, t := range to.AssociationTypes {
				obj.Types = append(obj.Types, t.associationType())
			}
			out[from] = append(out[from], obj)
		}
		if r.Paging != nil && r.Paging.Next != nil && r.Paging.Next.After != "" {
			next[from] = r.Paging.Next.After
		}
	}
	return next, nil
}

// HasType reports whether the association carries the type.
func (o AssociatedObject) HasType(category string, typeID int) bool {
	return slices.ContainsFunc(o.Types, func(t AssociationType) bool { return t.Category == category && t.TypeID == typeID })
}
