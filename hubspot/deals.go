package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

// Deal is a HubSpot deal record. All property values are strings; a
// property HubSpot returned as null is absent from Properties.
type Deal Contact

// DealInput is one deal to create or update, keyed by the value of the
// unique-value property the upsert goes by (e.g. a referral code).
type DealInput struct {
	Key        string
	Properties map[string]string
}

// DealUpsertResult is the outcome of a deal upsert, keyed by DealInput.Key:
// the deals written (New says which were created) and the inputs HubSpot
// refused, as typed errors (*ValidationError for an unknown stage or an
// invalid amount, *ConflictError for a unique value another deal holds).
type DealUpsertResult struct {
	Deals  map[string]Deal
	Failed map[string]error
}

// UpsertDeals creates or updates deals in one call (batch upsert, up to
// MaxBatch inputs) by idProperty, which must be a property created with
// HasUniqueValue: however often a referral arrives, it is one deal. An
// upsert by a custom unique property is partial, so one bad input does not
// fail the others.
func (p *Portal) UpsertDeals(ctx context.Context, idProperty string, inputs []DealInput) (*DealUpsertResult, error) {
	if err := checkBatch(len(inputs)); err != nil {
		return nil, err
	}
	items := make([]upsertItem, len(inputs))
	for i, in := range inputs {
		items[i] = upsertItem{id: in.Key, key: in.Key, props: in.Properties}
	}
	resp, byTrace, err := p.batchUpsert(ctx, ObjectDeals, idProperty, items)
	if err != nil {
		return nil, fmt.Errorf("portal %d: deal batch upsert: %w", p.hubID, err)
	}
	out := &DealUpsertResult{Deals: make(map[string]Deal, len(resp.Results)), Failed: map[string]error{}}
	for _, r := range resp.Results {
		d := Deal(r.contact())
		key, ok := byTrace[r.ObjectWriteTraceID]
		if !ok {
			key = d.Properties[idProperty]
		}
		out.Deals[key] = d
	}
	for _, e := range resp.Errors {
		keys := e.Context["ids"]
		for _, t := range e.Context["objectWriteTraceId"] {
			if k, ok := byTrace[t]; ok {
				keys = []string{k}
			}
		}
		for _, k := range keys {
			out.Failed[k] = itemError(e)
		}
	}
	return out, nil
}

// ReadDeals returns the deals with the given record ids (idProperty "") or
// values of a unique-value property, keyed the same way, with the given
// properties (HubSpot's defaults when none). Keys HubSpot does not have are
// absent.
func (p *Portal) ReadDeals(ctx context.Context, idProperty string, keys []string, properties []string) (map[string]Deal, error) {
	if idProperty != "" {
		// The key must come back to match results to keys.
		if len(properties) == 0 {
			properties = defaultDealProperties
		}
		properties = withProperty(properties, idProperty)
	}
	res, err := p.readObjects(ctx, ObjectDeals, idProperty, keys, properties)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Deal, len(res))
	for _, r := range res {
		key := r.ID
		if idProperty != "" {
			key = r.Properties[idProperty]
		}
		out[key] = Deal(r)
	}
	return out, nil
}

// defaultDealProperties are what HubSpot returns for a deal when no
// properties are asked for.
var defaultDealProperties = []string{"amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"}

// upsertItem is one input of a batch upsert: the idProperty value sent,
// and the caller's key for it.
type upsertItem struct {
	id, key string
	props   map[string]string
}

// batchUpsert sends one batch upsert of objectType by idProperty. Every
// input carries a trace id so that results and per-input errors can be
// matched to inputs; byTrace maps trace ids to keys.
func (p *Portal) batchUpsert(ctx context.Context, objectType, idProperty string, items []upsertItem) (resp batchResponse, byTrace map[string]string, err error) {
	type input struct {
		ID                 string            `json:"id"`
		IDProperty         string            `json:"idProperty"`
		Properties         map[string]string `json:"properties"`
		ObjectWriteTraceID string            `json:"objectWriteTraceId"`
	}
	body := struct {
		Inputs []input `json:"inputs"`
	}{Inputs: make([]input, len(items))}
	byTrace = make(map[string]string, len(items))
	for i, it := range items {
		trace := "u" + strconv.Itoa(i)
		byTrace[trace] = it.key
		body.Inputs[i] = input{ID: it.id, IDProperty: idProperty, Properties: orEmpty(it.props), ObjectWriteTraceID: trace}
	}
	_, err = p.call(ctx, http.MethodPost, p.c.objectPath(objectType, "/batch/upsert"), body, &resp)
	return resp, byTrace, err
}

// withProperty adds name to props unless it is there.
func withProperty(props []string, name string) []string {
	for _, p := range props {
		if p == name {
			return props
		}
	}
	return append(append([]string{}, props...), name)
}

// DealCreateInput is one deal to create, with the contact (if any) to give
// HubSpot's default deal→contact association in the same call. TraceID
// must be unique in the batch: HubSpot then reports failures per input.
type DealCreateInput struct {
	TraceID    string
	Properties map[string]string
	ContactID  string
}

// DealCreateResult is the outcome of a deal batch create, keyed by
// TraceID: the deals created (with their association) and the inputs
// HubSpot refused, as typed errors (*ConflictError for a unique value
// another deal holds, *ValidationError for an invalid value or an unknown
// contact).
type DealCreateResult struct {
	Created map[string]Deal
	Failed  map[string]error
}

// CreateDeals creates deals in one call (batch create, up to MaxBatch
// inputs), each associated inline with its contact. Every input carries
// its objectWriteTraceId, so one refused input (a deal whose unique value
// exists already) does not fail the others; an input HubSpot neither
// created nor named is reported failed, so nothing is taken for done.
// HubSpot does not promise results in input order: a result without its
// trace id is matched by idProperty, the unique-value property every
// input sets (its value is in the created deal's properties), and by
// position only when idProperty is "" or the result lacks it.
func (p *Portal) CreateDeals(ctx context.Context, idProperty string, inputs []DealCreateInput) (*DealCreateResult, error) {
	if err := checkBatch(len(inputs)); err != nil {
		return nil, err
	}
	type assoc struct {
		To    objectIDJSON `json:"to"`
		Types []assocSpec  `json:"types"`
	}
	type input struct {
		Properties         map[string]string `json:"properties"`
		Associations       []assoc           `json:"associations"`
		ObjectWriteTraceID string            `json:"objectWriteTraceId"`
	}
	body := struct {
		Inputs []input `json:"inputs"`
	}{Inputs: make([]input, len(inputs))}
	for i, in := range inputs {
		as := []assoc{}
		if in.ContactID != "" {
			as = append(as, assoc{To: objectIDJSON{flexID(in.ContactID)},
				Types: []assocSpec{{CategoryHubSpotDefined, TypeDealToContact}}})
		}
		body.Inputs[i] = input{Properties: orEmpty(in.Properties), Associations: as, ObjectWriteTraceID: in.TraceID}
	}
	var resp batchResponse
	if _, err := p.call(ctx, http.MethodPost, p.c.objectPath(ObjectDeals, "/batch/create"), body, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: deal batch create: %w", p.hubID, err)
	}
	out := &DealCreateResult{Created: map[string]Deal{}, Failed: map[string]error{}}
	for i, r := range resp.Results {
		d := Deal(r.contact())
		trace := r.ObjectWriteTraceID
		if v := d.Properties[idProperty]; trace == "" && idProperty != "" && v != "" {
			for _, in := range inputs {
				if in.Properties[idProperty] == v {
					trace = in.TraceID
					break
				}
			}
		}
		if trace == "" && len(resp.Results) == len(inputs) && len(resp.Errors) == 0 {
			trace = inputs[i].TraceID
		}
		out.Created[trace] = d
	}
	for _, e := range resp.Errors {
		for _, trace := range e.Context["objectWriteTraceId"] {
			out.Failed[trace] = itemError(e)
		}
	}
	for _, in := range inputs {
		_, made := out.Created[in.TraceID]
		if _, bad := out.Failed[in.TraceID]; !made && !bad {
			out.Failed[in.TraceID] = fmt.Errorf("hubspot: no result for the deal input %s", in.TraceID)
		}
	}
	delete(out.Created, "")
	return out, nil
}
