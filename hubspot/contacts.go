package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// MaxBatch is the most inputs HubSpot accepts in one batch call.
const MaxBatch = 100

// Contact is a HubSpot contact record. All property values are strings; a
// property HubSpot returned as null is absent from Properties.
type Contact struct {
	ID         string
	Properties map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	New        bool // upsert only: the contact was created by this call
}

// Email returns the contact's email, lowercased.
func (c Contact) Email() string { return strings.ToLower(c.Properties["email"]) }

type simpleObject struct {
	ID                 string             `json:"id"`
	Properties         map[string]*string `json:"properties"`
	CreatedAt          time.Time          `json:"createdAt"`
	UpdatedAt          time.Time          `json:"updatedAt"`
	New                *bool              `json:"new,omitempty"`
	ObjectWriteTraceID string             `json:"objectWriteTraceId,omitempty"`
}

func (o simpleObject) contact() Contact {
	c := Contact{ID: o.ID, Properties: make(map[string]string, len(o.Properties)),
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	for k, v := range o.Properties {
		if v != nil {
			c.Properties[k] = *v
		}
	}
	if o.New != nil {
		c.New = *o.New
	}
	return c
}

type batchResponse struct {
	Status    string         `json:"status"`
	Results   []simpleObject `json:"results"`
	NumErrors int            `json:"numErrors"`
	Errors    []errorBody    `json:"errors"`
}

func checkBatch(n int) error {
	if n == 0 || n > MaxBatch {
		return fmt.Errorf("hubspot: batch of %d inputs (must be 1 to %d)", n, MaxBatch)
	}
	return nil
}

// UpsertInput is one contact to create or update, keyed by email.
type UpsertInput struct {
	Email      string
	Properties map[string]string
}

// UpsertResult is the outcome of a batch upsert, keyed by lowercased email:
// the contacts written, and the inputs HubSpot reported as failed (typed
// errors) when it answers 207.
type UpsertResult struct {
	Contacts map[string]Contact
	Failed   map[string]error
}

// UpsertByEmail creates or updates contacts keyed by email in one call
// (batch upsert, idProperty=email). HubSpot fails the whole batch if any
// input is invalid; should it report failures per input instead (207),
// they are in Failed.
func (p *Portal) UpsertByEmail(ctx context.Context, inputs []UpsertInput) (*UpsertResult, error) {
	if err := checkBatch(len(inputs)); err != nil {
		return nil, err
	}
	items := make([]upsertItem, len(inputs))
	for i, in := range inputs {
		items[i] = upsertItem{id: in.Email, key: strings.ToLower(in.Email), props: in.Properties}
	}
	resp, byTrace, err := p.batchUpsert(ctx, ObjectContacts, "email", items)
	if err != nil {
		return nil, fmt.Errorf("portal %d: batch upsert: %w", p.hubID, err)
	}
	out := &UpsertResult{Contacts: make(map[string]Contact, len(resp.Results)), Failed: map[string]error{}}
	for i, r := range resp.Results {
		c := r.contact()
		key := byTrace[r.ObjectWriteTraceID]
		if key == "" {
			key = c.Email()
		}
		if key == "" && len(resp.Results) == len(inputs) {
			// Neither trace id nor email echoed: fall back to position.
			key = strings.ToLower(inputs[i].Email)
		}
		out.Contacts[key] = c
	}
	for _, e := range resp.Errors {
		for _, key := range failedKeys(e, byTrace) {
			out.Failed[key] = itemError(e)
		}
	}
	return out, nil
}

// failedKeys finds the inputs a 207 error names: by objectWriteTraceId, or
// by the ids (emails) in its context.
func failedKeys(e errorBody, byTrace map[string]string) []string {
	var keys []string
	for _, t := range e.Context["objectWriteTraceId"] {
		if k, ok := byTrace[t]; ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		for _, id := range e.Context["ids"] {
			keys = append(keys, strings.ToLower(id))
		}
	}
	return keys
}

// ReadByEmail returns the contacts that exist for emails, keyed by lowercased
// email, with the given properties (plus HubSpot's defaults). Emails with no
// contact are simply absent (HubSpot answers 207 for them).
func (p *Portal) ReadByEmail(ctx context.Context, emails []string, properties []string) (map[string]Contact, error) {
	res, err := p.read(ctx, "email", emails, withEmail(properties))
	if err != nil {
		return nil, err
	}
	out := make(map[string]Contact, len(res))
	for _, c := range res {
		out[c.Email()] = c
	}
	return out, nil
}

// ReadByID returns the contacts with the given record ids, keyed by id.
// Ids HubSpot does not have are absent.
func (p *Portal) ReadByID(ctx context.Context, ids []string, properties []string) (map[string]Contact, error) {
	res, err := p.read(ctx, "", ids, withEmail(properties))
	if err != nil {
		return nil, err
	}
	out := make(map[string]Contact, len(res))
	for _, c := range res {
		out[c.ID] = c
	}
	return out, nil
}

func (p *Portal) read(ctx context.Context, idProperty string, ids []string, properties []string) ([]Contact, error) {
	return p.readObjects(ctx, ObjectContacts, idProperty, ids, properties)
}

// readObjects batch-reads records of objectType by record id (idProperty
// "") or by a unique property; missing ids are simply absent.
func (p *Portal) readObjects(ctx context.Context, objectType, idProperty string, ids []string, properties []string) ([]Contact, error) {
	if err := checkBatch(len(ids)); err != nil {
		return nil, err
	}
	type id struct {
		ID string `json:"id"`
	}
	body := struct {
		IDProperty            string   `json:"idProperty,omitempty"`
		Inputs                []id     `json:"inputs"`
		Properties            []string `json:"properties"`
		PropertiesWithHistory []string `json:"propertiesWithHistory"`
	}{IDProperty: idProperty, Inputs: make([]id, len(ids)), Properties: properties, PropertiesWithHistory: []string{}}
	if body.Properties == nil {
		body.Properties = []string{}
	}
	for i, v := range ids {
		body.Inputs[i] = id{ID: v}
	}
	var resp batchResponse
	if _, err := p.call(ctx, http.MethodPost, p.c.objectPath(objectType, "/batch/read"), body, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: %s batch read: %w", p.hubID, objectType, err)
	}
	for _, e := range resp.Errors {
		if e.Category != "OBJECT_NOT_FOUND" {
			return nil, fmt.Errorf("portal %d: %s batch read: %w", p.hubID, objectType, itemError(e))
		}
	}
	out := make([]Contact, len(resp.Results))
	for i, r := range resp.Results {
		out[i] = r.contact()
	}
	return out, nil
}

// orEmpty sends nil properties as {}: HubSpot refuses "properties": null.
func orEmpty(props map[string]string) map[string]string {
	if props == nil {
		return map[string]string{}
	}
	return props
}

func withEmail(props []string) []string { return withProperty(props, "email") }

// CreateInput is one contact to create. TraceID must be unique in the batch;
// HubSpot then reports failures per input instead of failing the batch.
type CreateInput struct {
	TraceID    string
	Properties map[string]string
}

// CreateResult is the outcome of a batch create: contacts created and errors
// (typed, e.g. *ConflictError or *ValidationError), both keyed by TraceID.
type CreateResult struct {
	Created map[string]Contact
	Failed  map[string]error
}

// Create creates contacts (batch create with objectWriteTraceId, so that one
// bad input does not fail the others).
func (p *Portal) Create(ctx context.Context, inputs []CreateInput) (*CreateResult, error) {
	if err := checkBatch(len(inputs)); err != nil {
		return nil, err
	}
	type input struct {
		Properties         map[string]string `json:"properties"`
		Associations       []any             `json:"associations"`
		ObjectWriteTraceID string            `json:"objectWriteTraceId"`
	}
	body := struct {
		Inputs []input `json:"inputs"`
	}{Inputs: make([]input, len(inputs))}
	for i, in := range inputs {
		body.Inputs[i] = input{Properties: orEmpty(in.Properties), Associations: []any{}, ObjectWriteTraceID: in.TraceID}
	}
	var resp batchResponse
	if _, err := p.call(ctx, http.MethodPost, p.c.crmPath("/batch/create"), body, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: batch create: %w", p.hubID, err)
	}
	out := &CreateResult{Created: map[string]Contact{}, Failed: map[string]error{}}
	for i, r := range resp.Results {
		trace := r.ObjectWriteTraceID
		if trace == "" && len(resp.Results) == len(inputs) {
			trace = inputs[i].TraceID
		}
		if trace == "" {
			trace = matchTrace(inputs, r.contact())
		}
		out.Created[trace] = r.contact()
	}
	for _, e := range resp.Errors {
		for _, trace := range e.Context["objectWriteTraceId"] {
			out.Failed[trace] = itemError(e)
		}
	}
	return out, nil
}

// matchTrace finds the input a result belongs to by email, for servers that
// do not echo objectWriteTraceId.
func matchTrace(inputs []CreateInput, c Contact) string {
	for _, in := range inputs {
		if strings.EqualFold(in.Properties["email"], c.Properties["email"]) {
			return in.TraceID
		}
	}
	return ""
}

// UpdateInput is one contact to update, by record id.
type UpdateInput struct {
	ID         string
	Properties map[string]string
}

// Update updates contacts by record id (batch update). Ids HubSpot no longer
// has (merged or deleted) are returned in missing.
func (p *Portal) Update(ctx context.Context, inputs []UpdateInput) (updated map[string]Contact, missing []string, err error) {
	if err := checkBatch(len(inputs)); err != nil {
		return nil, nil, err
	}
	type input struct {
		ID         string            `json:"id"`
		Properties map[string]string `json:"properties"`
	}
	body := struct {
		Inputs []input `json:"inputs"`
	}{Inputs: make([]input, len(inputs))}
	for i, in := range inputs {
		body.Inputs[i] = input{ID: in.ID, Properties: orEmpty(in.Properties)}
	}
	var resp batchResponse
	if _, err := p.call(ctx, http.MethodPost, p.c.crmPath("/batch/update"), body, &resp); err != nil {
		return nil, nil, fmt.Errorf("portal %d: batch update: %w", p.hubID, err)
	}
	updated = make(map[string]Contact, len(resp.Results))
	for _, r := range resp.Results {
		updated[r.ID] = r.contact()
	}
	for _, e := range resp.Errors {
		if e.Category != "OBJECT_NOT_FOUND" {
			return updated, nil, fmt.Errorf("portal %d: batch update: %w", p.hubID, itemError(e))
		}
		missing = append(missing, e.Context["ids"]...)
	}
	return updated, missing, nil
}
