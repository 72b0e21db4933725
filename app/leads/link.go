package leads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// Delivered is a signup whose contact delivery has just written (or found).
type Delivered struct {
	Subject
	ContactID string
	Sent      map[string]string // the properties written, for the counts they carry
}

// API is the part of a HubSpot portal the links and counts use.
type API interface {
	EnsureAssociationLabel(ctx context.Context, fromType, toType string, def hubspot.LabelDefinition) (hubspot.LabelPair, error)
	CreateAssociations(ctx context.Context, fromType, toType string, inputs []hubspot.AssociationInput) (*hubspot.AssociationResult, error)
	Update(ctx context.Context, inputs []hubspot.UpdateInput) (map[string]hubspot.Contact, []string, error)
}

// Sources returns a source's current configuration (cached).
type Sources interface {
	Source(ctx context.Context, id string) (*tenants.Source, error)
}

// CallsPerBatch is how many HubSpot calls the links and counts of one
// delivery batch (≤ 100 contacts) take, once the portal's label pair is
// known: one batch association create and one batch update of counts (in
// a burst, the counts are written at its end).
const CallsPerBatch = 2

// link is one lead to associate with its referrer.
type link struct {
	lead, ref string
	keys      []string // the identity keys the lead names its referrer by
	idx       int      // the lead's place in the batch, -1 for a lead that waited
	call      bool     // not linked to this referrer in HubSpot yet
	rec       Lead
}

// Link follows a delivery batch whose contacts are written: it indexes
// the people delivered, links each lead to its referrer's contact (or
// keeps it waiting), links the leads that waited for a referrer delivered
// now, and writes the referrers' counts that changed — unless more signups
// wait in the lane (more) and fewer than MaxDeferredCounts referrers wait
// for theirs: a burst then costs one count update per 100 referrers at its
// end rather than one per batch. failed holds, by
// their index in ds, the leads HubSpot refused to link on their own; err
// concerns the whole batch (HubSpot down or rate limited, token refused):
// nothing is lost by retrying the batch, every step is idempotent.
func (s *Service) Link(ctx context.Context, hub int64, api API, ds []Delivered, src Sources, defs map[string]hubspot.Property, more bool) (failed map[int]error, err error) {
	if len(ds) == 0 {
		return nil, nil
	}
	if err := s.register(ctx, hub, ds); err != nil {
		return nil, fmt.Errorf("portal %d: index delivered contacts: %w", hub, err)
	}
	if err := s.noteSent(ctx, hub, ds); err != nil {
		return nil, err
	}
	links, waits, err := s.plan(ctx, hub, ds)
	if err != nil {
		return nil, fmt.Errorf("portal %d: plan referrer links: %w", hub, err)
	}
	failed, err = s.associate(ctx, hub, api, links)
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, hub, links); err != nil {
		return nil, fmt.Errorf("portal %d: record referrer links: %w", hub, err)
	}
	if err := s.addPending(ctx, hub, waits); err != nil {
		return nil, fmt.Errorf("portal %d: keep leads waiting for their referrer: %w", hub, err)
	}
	if more {
		n, err := s.rdb.SCard(ctx, dirtyKey(hub)).Result()
		if err != nil || n < MaxDeferredCounts {
			return failed, err
		}
	}
	return failed, s.WriteCounts(ctx, hub, api, src, defs)
}

// MaxDeferredCounts is how many referrers may wait for their counts while
// a burst of signups is delivered.
const MaxDeferredCounts = 5 * hubspot.MaxBatch

// plan decides the links a batch makes: each lead to its referrer if the
// index knows it (waits otherwise, unless its source sends no referrers),
// and each lead waiting for one of the people just delivered.
func (s *Service) plan(ctx context.Context, hub int64, ds []Delivered) ([]*link, map[string][]string, error) {
	var refLists [][]string
	var leadIdx []int
	for i, d := range ds {
		if d.Lead {
			refLists = append(refLists, d.Referrer)
			leadIdx = append(leadIdx, i)
		}
	}
	refs, err := s.resolve(ctx, hub, refLists)
	if err != nil {
		return nil, nil, err
	}
	var links []*link
	waits := map[string][]string{}
	for n, i := range leadIdx {
		d := ds[i]
		rec := Lead{Source: d.Source, Code: d.Code, Email: d.Email, ContactID: d.ContactID}
		switch ref := refs[n]; {
		case ref != "" && ref != d.ContactID:
			links = append(links, &link{lead: d.ContactID, ref: ref, keys: d.Referrer, idx: i, rec: rec})
		case len(d.Referrer) > 0 && ref == "" && !d.NoWait:
			waits[d.ContactID] = d.Referrer
			links = append(links, &link{lead: d.ContactID, idx: i, rec: rec}) // stored, unlinked
		default:
			links = append(links, &link{lead: d.ContactID, idx: i, rec: rec})
		}
	}
	waited, err := s.waitedFor(ctx, hub, ds)
	if err != nil {
		return nil, nil, err
	}
	inBatch := make(map[string]bool, len(links))
	for _, l := range links {
		inBatch[l.lead] = true
	}
	for _, l := range waited {
		if !inBatch[l.lead] { // a waiting lead delivered again in this batch is linked as part of it
			links = append(links, l)
		}
	}
	return links, waits, s.markCalls(ctx, hub, links)
}

// waitedFor returns the links of leads that waited for a person just
// delivered.
func (s *Service) waitedFor(ctx context.Context, hub int64, ds []Delivered) ([]*link, error) {
	byKey := map[string]string{}
	var keys []string
	for _, d := range ds {
		for _, k := range d.Self {
			if _, dup := byKey[k]; !dup {
				keys = append(keys, k)
			}
			byKey[k] = d.ContactID
		}
	}
	pairs, err := s.waitingFor(ctx, hub, keys)
	if err != nil {
		return nil, err
	}
	var out []*link
	for _, p := range pairs {
		if ref := byKey[p.key]; ref != p.lead {
			out = append(out, &link{lead: p.lead, ref: ref, idx: -1})
		}
	}
	return out, nil
}

// markCalls loads the stored records of the leads and marks the links
// HubSpot does not have yet: a lead delivered again with the same referrer
// costs no association call.
func (s *Service) markCalls(ctx context.Context, hub int64, links []*link) error {
	if len(links) == 0 {
		return nil
	}
	ids := make([]string, len(links))
	for i, l := range links {
		ids[i] = l.lead
	}
	raws, err := s.rdb.HMGet(ctx, leadKey(hub), ids...).Result()
	if err != nil {
		return err
	}
	for i, l := range links {
		var old Lead
		if raw, ok := raws[i].(string); ok {
			_ = json.Unmarshal([]byte(raw), &old)
		}
		if l.idx < 0 {
			l.rec = old
			l.rec.ContactID = l.lead
		}
		if l.ref == "" {
			l.rec.Referrer = old.Referrer // still waiting, or linked before
			continue
		}
		l.call = old.Referrer != l.ref
	}
	return nil
}

// associate creates the links HubSpot does not have, up to MaxBatch per
// call. A refusal of one link is returned by the lead's index for a lead of
// this batch; a lead that waited and cannot be linked (its contact is gone)
// stops waiting. A failure of one link that retrying can fix fails the
// batch.
func (s *Service) associate(ctx context.Context, hub int64, api API, links []*link) (map[int]error, error) {
	var todo []*link
	for _, l := range links {
		if l.call {
			todo = append(todo, l)
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	pair, err := s.label(ctx, hub, api)
	if err != nil {
		return nil, err
	}
	failed := map[int]error{}
	for len(todo) > 0 {
		chunk := todo[:min(len(todo), hubspot.MaxBatch)]
		todo = todo[len(chunk):]
		inputs := make([]hubspot.AssociationInput, len(chunk))
		for i, l := range chunk {
			inputs[i] = hubspot.AssociationInput{FromID: l.lead, ToID: l.ref, Types: []hubspot.AssociationType{pair.Forward}}
		}
		res, err := api.CreateAssociations(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, inputs)
		var ve *hubspot.ValidationError
		if errors.As(err, &ve) {
			// The label pair refhub knew may have been deleted in HubSpot:
			// look it up again next time.
			s.forgetLabel(ctx, hub)
		}
		if err != nil {
			return nil, err
		}
		for i, ferr := range res.Failed {
			l := chunk[i]
			l.ref = ""
			if !permanent(ferr) {
				return nil, fmt.Errorf("portal %d: link lead %s to its referrer: %w", hub, l.lead, ferr)
			}
			if l.idx >= 0 {
				failed[l.idx] = &LinkError{Lead: l.lead, Referrer: inputs[i].ToID, Err: ferr}
				// The index points to a contact HubSpot no longer has: forget
				// it, so a replay waits for the referrer to be delivered again.
				if err := s.unindex(ctx, hub, l.keys, inputs[i].ToID); err != nil {
					return nil, err
				}
			}
		}
	}
	return failed, nil
}

// LinkError is a lead whose contact is written but that HubSpot refused to
// link to its referrer.
type LinkError struct {
	Lead, Referrer string
	Err            error
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("HubSpot refused to link contact %s to its referrer's contact %s: %v", e.Lead, e.Referrer, e.Err)
}

func (e *LinkError) Unwrap() error { return e.Err }

// unindex forgets the identity keys that point to contact ref.
func (s *Service) unindex(ctx context.Context, hub int64, keys []string, ref string) error {
	if len(keys) == 0 {
		return nil
	}
	vals, err := s.rdb.HMGet(ctx, refsKey(hub), keys...).Result()
	if err != nil {
		return err
	}
	var stale []string
	for i, v := range vals {
		if v == ref {
			stale = append(stale, keys[i])
		}
	}
	if len(stale) == 0 {
		return nil
	}
	return s.rdb.HDel(ctx, refsKey(hub), stale...).Err()
}

// permanent reports whether retrying a refused link cannot help: a record
// that does not exist, or an input HubSpot judges invalid.
func permanent(err error) bool {
	var nf *hubspot.NotFoundError
	var ve *hubspot.ValidationError
	return errors.As(err, &nf) || errors.As(err, &ve)
}

// record stores the outcome of the links: each lead's record with its
// referrer, the referrer's tallies (each lead once, however often it
// arrives), and the referrers whose counts changed; leads linked stop
// waiting, and so do waiting leads HubSpot refused to link.
func (s *Service) record(ctx context.Context, hub int64, links []*link) error {
	pipe := s.rdb.Pipeline()
	var linked []*link
	var done []string
	for _, l := range links {
		if l.ref == "" && l.idx < 0 {
			done = append(done, l.lead) // a waiting lead that cannot be linked
			continue
		}
		if l.ref != "" {
			l.rec.Referrer = l.ref
			linked = append(linked, l)
			done = append(done, l.lead)
		}
		saveLead(ctx, pipe, hub, l.rec)
	}
	// The records (with their referrer) are written before the
	// qualifications are read: see MarkQualified.
	quals := make([]*redis.BoolCmd, len(linked))
	for i, l := range linked {
		pipe.SAdd(ctx, ofKey(hub, l.ref), l.lead)
		quals[i] = pipe.SIsMember(ctx, qualKey(hub), l.rec.Source+sep+qualName(l.rec))
		pipe.SAdd(ctx, dirtyKey(hub), l.ref)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	pipe = s.rdb.Pipeline()
	for i, l := range linked {
		if quals[i].Val() {
			pipe.SAdd(ctx, qofKey(hub, l.ref), l.lead)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	return s.dropPending(ctx, hub, done)
}

// qualName is the name a lead's qualification is recorded under: its
// code, else its email.
func qualName(l Lead) string {
	return Subject{Code: l.Code, Email: l.Email}.leadKey()
}

// label returns the portal's "Referred by" / "Referrer" label pair,
// creating it in HubSpot the first time (cached in memory and in Redis,
// so replicas and restarts do not ask again).
func (s *Service) label(ctx context.Context, hub int64, api API) (hubspot.LabelPair, error) {
	s.mu.Lock()
	pair, ok := s.labels[hub]
	s.mu.Unlock()
	if ok {
		return pair, nil
	}
	raw, err := s.rdb.Get(ctx, labelKey(hub)).Bytes()
	if err == nil && json.Unmarshal(raw, &pair) == nil && pair.Forward.TypeID != 0 {
		s.keepLabel(hub, pair)
		return pair, nil
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return pair, err
	}
	pair, err = api.EnsureAssociationLabel(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, Label)
	if err != nil {
		return pair, err
	}
	b, _ := json.Marshal(pair)
	if err := s.rdb.Set(ctx, labelKey(hub), b, 0).Err(); err != nil {
		return pair, err
	}
	s.keepLabel(hub, pair)
	return pair, nil
}

func (s *Service) keepLabel(hub int64, pair hubspot.LabelPair) {
	s.mu.Lock()
	s.labels[hub] = pair
	s.mu.Unlock()
}

func (s *Service) forgetLabel(ctx context.Context, hub int64) {
	s.mu.Lock()
	delete(s.labels, hub)
	s.mu.Unlock()
	s.rdb.Del(ctx, labelKey(hub))
}
