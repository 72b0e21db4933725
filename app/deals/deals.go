// Package deals writes one HubSpot deal per referral, beside its contact:
// in the pipeline and stage the source chose, named from its template,
// upserted by a unique-value deal property refhub creates once per portal
// (so however often Referral Factory sends a referral, and however many
// replicas receive it, it is one deal), never moved back to an earlier
// stage, and given HubSpot's default association with its contact.
package deals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// KeyProperty is the unique-value deal property refhub creates in every
// portal that gets deals: the referral's key (source and Referral Factory
// identity), which the deal upsert goes by. Deal settings cannot map a
// field to it (tenants refuses them).
const KeyProperty = tenants.DealKeyProperty

// keyPropertyDef is KeyProperty as created.
var keyPropertyDef = hubspot.Property{
	Name: KeyProperty, Label: "Referral key (refhub)", Type: "string", FieldType: "text",
	GroupName: "dealinformation", HasUniqueValue: true,
	Description: "Set by refhub: the Referral Factory referral this deal was made for (one deal per referral).",
}

// CallsPerBatch is how many HubSpot calls a delivery round reserves for
// its deals: what a batch of new referrals takes, the batch create with
// the associations inline. The calls a round makes only now and then —
// the key property (a portal's first batch, or after an admin deleted
// it), and the stage read, upsert and associations of repeats and of
// creates HubSpot refused — wait for a free slot of the portal's window
// like any call beyond a reservation, so no round sends one over the
// limit, and the window's slots are not held back for them.
const CallsPerBatch = 1

// pipelinesTTL is how long a portal's pipelines are reused.
const pipelinesTTL = time.Minute

// API is what deals need of a HubSpot portal (*hubspot.Portal).
type API interface {
	CreatePropertyOf(ctx context.Context, objectType string, prop hubspot.Property) (hubspot.Property, error)
	ListPipelines(ctx context.Context, objectType string) ([]hubspot.Pipeline, error)
	ReadDeals(ctx context.Context, idProperty string, keys []string, properties []string) (map[string]hubspot.Deal, error)
	UpsertDeals(ctx context.Context, idProperty string, inputs []hubspot.DealInput) (*hubspot.DealUpsertResult, error)
	CreateDeals(ctx context.Context, idProperty string, inputs []hubspot.DealCreateInput) (*hubspot.DealCreateResult, error)
	AssociateDefault(ctx context.Context, fromType, toType string, pairs []hubspot.ObjectPair) (*hubspot.AssociationResult, error)
}

// Input is one referral's deal to write.
type Input struct {
	Key       string                // the referral's key (Key)
	ContactID string                // its person's contact
	Settings  *tenants.DealSettings // the source's deal settings
	Props     map[string]string     // mapped and default properties, and the name
	Policy    tenants.Policy        // what a repeated signup does to an existing deal
}

// Key is the deal key of a referral: the source and the person's first
// identity key (Referral Factory id, code, or email).
func Key(sourceID, identity string) string { return sourceID + "/" + identity }

// Result is a written deal.
type Result struct {
	DealID  string
	Created bool
}

// SettingsError is a deal the source's settings cannot make in this portal
// (a pipeline or stage deleted in HubSpot since they were saved).
type SettingsError struct {
	Code, Text, Fix string
}

func (e *SettingsError) Error() string { return e.Text }

// Service writes deals.
type Service struct {
	rdb    redis.UniversalClient
	memKey []byte // keys the hashes of the memory's fields
}

// New returns a Service keeping its per-portal state in rdb. secret keys
// the hashes it remembers deal keys by (see memory.go): every replica must
// have the same; a change only costs refused creates until they are
// remembered again.
func New(rdb redis.UniversalClient, secret []byte) *Service {
	return &Service{rdb: rdb, memKey: secret}
}

func keyPropertyKey(hub int64) string { return tenants.PortalKey(hub, "deals:keyprop") }
func pipelinesKey(hub int64) string   { return tenants.PortalKey(hub, "deals:pipelines") }

// Write writes the deals of ins (at most hubspot.MaxBatch), each
// associated with its contact. Keys refhub has not written before are
// created in one call with their association inline; the unique key
// property makes that safe: a deal that exists after all (another replica
// made it, or the memory was lost) is refused by HubSpot and goes, with
// remembered keys, the way of a repeat (stage read, upsert by key,
// association). failed holds, by index in ins, the inputs HubSpot or the
// settings refused (*SettingsError, *hubspot.ValidationError, ...); err
// concerns the whole batch (retry it).
func (s *Service) Write(ctx context.Context, hub int64, api API, ins []Input) (done map[int]Result, failed map[int]error, err error) {
	done, failed = map[int]Result{}, map[int]error{}
	if len(ins) == 0 {
		return done, failed, nil
	}
	if err := s.ensureKeyProperty(ctx, hub, api); err != nil {
		return nil, nil, err
	}
	w := &writer{s: s, hub: hub, api: api, ins: ins, done: done, failed: failed}
	known, err := s.remembered(ctx, hub, ins)
	if err != nil {
		return nil, nil, err
	}
	var fresh, repeats []int
	for i := range ins {
		if known[i] {
			repeats = append(repeats, i)
		} else {
			fresh = append(fresh, i)
		}
	}
	refused, err := w.create(ctx, fresh)
	if err != nil {
		return nil, nil, err
	}
	if err := w.upsert(ctx, append(repeats, refused...)); err != nil {
		return nil, nil, err
	}
	// The memory only saves a refused create next time: a Redis error
	// here loses nothing HubSpot holds, so the batch is not retried for it.
	_ = s.remember(ctx, hub, ins, done)
	return done, failed, nil
}

// writer is one Write: its inputs, what became of them, and whether the
// key property was recreated (at most once).
type writer struct {
	s         *Service
	hub       int64
	api       API
	ins       []Input
	done      map[int]Result
	failed    map[int]error
	recreated bool
}

// byKey groups the indices idx by deal key, keys in first-seen order: one
// HubSpot input per key, the last referral of a key in the batch winning.
func (w *writer) byKey(idx []int) (order []string, groups map[string][]int) {
	groups = map[string][]int{}
	for _, i := range idx {
		k := w.ins[i].Key
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	return order, groups
}

// AssociationError is a deal written but not associated with its contact.
type AssociationError struct{ Err error }

func (e *AssociationError) Error() string {
	return "associate the deal with its contact: " + e.Err.Error()
}
func (e *AssociationError) Unwrap() error { return e.Err }

// propsToSend is what to write to a deal: everything for a new one; for an
// existing one what the policy lets through, and its pipeline and stage
// only when that moves the deal forward in the same pipeline. nil: nothing
// to write.
func propsToSend(in Input, old hubspot.Deal, exists bool, pipes []hubspot.Pipeline) map[string]string {
	if !exists {
		return newDealProps(in)
	}
	out := map[string]string{}
	switch in.Policy {
	case tenants.Skip:
	case tenants.FillEmpty:
		for k, v := range in.Props {
			if old.Properties[k] == "" {
				out[k] = v
			}
		}
	default:
		for k, v := range in.Props {
			if old.Properties[k] != v {
				out[k] = v
			}
		}
	}
	if in.Policy != tenants.Skip && forward(pipes, old, in.Settings) {
		out["dealstage"] = in.Settings.Stage
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// forward reports whether the chosen stage is later, in the deal's own
// pipeline, than the stage the deal is in (which a salesperson may have
// advanced, or closed).
func forward(pipes []hubspot.Pipeline, old hubspot.Deal, d *tenants.DealSettings) bool {
	if old.Properties["pipeline"] != d.Pipeline {
		return false
	}
	for _, p := range pipes {
		if p.ID != d.Pipeline {
			continue
		}
		cur, okCur := p.Stage(old.Properties["dealstage"])
		want, okWant := p.Stage(d.Stage)
		if !okWant || cur.Closed() {
			return false
		}
		return !okCur || stageIndex(p, want.ID) > stageIndex(p, cur.ID)
	}
	return false
}

// stageIndex is a stage's place in its pipeline (display order, then the
// order HubSpot lists them).
func stageIndex(p hubspot.Pipeline, id string) int {
	for i, s := range p.Stages {
		if s.ID == id {
			return s.DisplayOrder*1000 + i
		}
	}
	return -1
}

// checkSettings says why a deal cannot be made with d in a portal with
// pipes, or nil.
func checkSettings(pipes []hubspot.Pipeline, d *tenants.DealSettings) *SettingsError {
	for _, p := range pipes {
		if p.ID != d.Pipeline || p.Archived {
			continue
		}
		if s, ok := p.Stage(d.Stage); ok && !s.Archived {
			return nil
		}
		return &SettingsError{Code: "DEAL_STAGE_UNKNOWN",
			Text: fmt.Sprintf("The contact is in HubSpot, but its deal was not made: the deal pipeline %q (%s) has no stage %q (it was deleted or archived in HubSpot).", p.ID, p.Label, d.Stage),
			Fix:  "Choose the stage new deals start in in the source's deal settings (PUT /api/v1/sources/{id}/deals). Then replay the dead letters."}
	}
	return &SettingsError{Code: "DEAL_PIPELINE_MISSING",
		Text: fmt.Sprintf("The contact is in HubSpot, but its deal was not made: the portal has no deal pipeline %q (it was deleted or archived in HubSpot).", d.Pipeline),
		Fix:  "Choose a pipeline and stage in the source's deal settings (PUT /api/v1/sources/{id}/deals). Then replay the dead letters."}
}

// pipelines returns the portal's deal pipelines, cached for a minute; a
// cached copy that lacks a pipeline or stage the inputs idx need is read
// again (an admin may just have added it).
func (s *Service) pipelines(ctx context.Context, hub int64, api API, ins []Input, idx []int) ([]hubspot.Pipeline, error) {
	raw, err := s.rdb.Get(ctx, pipelinesKey(hub)).Bytes()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	var pipes []hubspot.Pipeline
	if err == nil && json.Unmarshal(raw, &pipes) == nil {
		fresh := true
		for _, i := range idx {
			fresh = fresh && checkSettings(pipes, ins[i].Settings) == nil
		}
		if fresh {
			return pipes, nil
		}
	}
	pipes, err = api.ListPipelines(ctx, hubspot.ObjectDeals)
	if err != nil {
		return nil, err
	}
	if raw, err := json.Marshal(pipes); err == nil {
		s.rdb.Set(ctx, pipelinesKey(hub), raw, pipelinesTTL)
	}
	return pipes, nil
}

// Purge drops a portal's deal state (the portal was deleted): the key
// property flag, the pipelines and the memory of the deals written.
func (s *Service) Purge(ctx context.Context, hub int64) error {
	return s.rdb.Del(ctx, keyPropertyKey(hub), pipelinesKey(hub), memoryKey(hub)).Err()
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
