package leads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// Keys of one portal, all in its hash slot.
func key(hub int64, suffix string) string { return tenants.PortalKey(hub, "leads:"+suffix) }

func refsKey(hub int64) string    { return key(hub, "refs") }    // hash identity key → contact id
func refSrcKey(hub int64) string  { return key(hub, "refsrc") }  // hash referrer contact → source \x1f route
func leadKey(hub int64) string    { return key(hub, "lead") }    // hash lead contact → Lead (JSON)
func codeIdxKey(hub int64) string { return key(hub, "code") }    // hash source \x1f lead key → lead contact
func pendKey(hub int64) string    { return key(hub, "pend") }    // hash lead contact → pendingLink (JSON)
func pendIdxKey(hub int64) string { return key(hub, "pendidx") } // zset (lex) identity key \x1f lead contact
func pendAgeKey(hub int64) string { return key(hub, "pendage") } // zset lead contact by time it began waiting
func qualKey(hub int64) string    { return key(hub, "qual") }    // set of source \x1f lead key qualified
func ofKey(hub int64, ref string) string {
	return key(hub, "of:"+ref) // set of the lead contacts linked to a referrer
}
func qofKey(hub int64, ref string) string {
	return key(hub, "qof:"+ref) // set of those leads that qualified
}
func maxKey(hub int64) string   { return key(hub, "max") }   // hash referrer contact \x1f n|q → highest count written
func dirtyKey(hub int64) string { return key(hub, "dirty") } // set of referrers whose counts need writing
func labelKey(hub int64) string { return key(hub, "label") } // the portal's label pair (JSON)

const sep = "\x1f"

// MaxPending bounds the leads of one portal waiting for their referrer;
// past it the longest-waiting one gives up its link (its contact is in
// HubSpot either way).
const MaxPending = 100_000

// Label is the association label pair refhub creates in each portal: from
// the lead's contact to its referrer's it reads "Referred by", the other
// way "Referrer".
var Label = hubspot.LabelDefinition{Name: "refhub_referred_by", Label: "Referred by", InverseLabel: "Referrer"}

// Lead is a delivered lead: the source that received it, its referral code
// and email, its HubSpot contact, and its referrer's contact ("" while the
// referrer is not known).
type Lead struct {
	Source    string `json:"source"`
	Code      string `json:"code,omitempty"`
	Email     string `json:"email"`
	ContactID string `json:"contact_id"`
	Referrer  string `json:"referrer,omitempty"`
}

// pendingLink is a lead waiting for its referrer's contact.
type pendingLink struct {
	Keys []string `json:"keys"`
	At   int64    `json:"at"`
}

// Service holds the lead index, the pending links and the counts.
type Service struct {
	rdb    redis.UniversalClient
	log    *slog.Logger
	now    func() time.Time
	signal func(ctx context.Context, hub int64) error

	mu     sync.Mutex
	labels map[int64]hubspot.LabelPair

	maxPending int64 // MaxPending; tests lower it
}

// New returns the service; signal tells delivery that a portal has counts
// to write (queue.Signal).
func New(rdb redis.UniversalClient, log *slog.Logger, now func() time.Time, signal func(ctx context.Context, hub int64) error) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{rdb: rdb, log: log, now: now, signal: signal, labels: map[int64]hubspot.LabelPair{}, maxPending: MaxPending}
}

func isNil(err error) bool { return errors.Is(err, redis.Nil) }

// ByContact returns the lead delivered as contact id of portal hub.
func (s *Service) ByContact(ctx context.Context, hub int64, contactID string) (Lead, bool, error) {
	raw, err := s.rdb.HGet(ctx, leadKey(hub), contactID).Result()
	if errors.Is(err, redis.Nil) {
		return Lead{}, false, nil
	}
	if err != nil {
		return Lead{}, false, fmt.Errorf("portal %d: lead %s: %w", hub, contactID, err)
	}
	var l Lead
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		return Lead{}, false, fmt.Errorf("portal %d: lead %s: %w", hub, contactID, err)
	}
	return l, true, nil
}

// MarkQualified counts the lead of source with code as qualified, once:
// first says whether this call did (not Referral Factory's own webhook or
// an earlier call). Its referrer's qualified count is then written by the
// portal's next delivery round, which this call wakes.
func (s *Service) MarkQualified(ctx context.Context, hub int64, source, code string) (first bool, err error) {
	code = strings.TrimSpace(code)
	if source == "" || code == "" {
		return false, errors.New("leads: a qualification needs the source and the lead's code")
	}
	n, err := s.rdb.SAdd(ctx, qualKey(hub), source+sep+code).Result()
	if err != nil {
		return false, fmt.Errorf("portal %d: qualify %s: %w", hub, code, err)
	}
	// After the mark, read the lead: a link made meanwhile either saw the
	// mark or is visible here (linkLeads writes the referrer before it
	// reads the mark).
	contact, err := s.rdb.HGet(ctx, codeIdxKey(hub), source+sep+code).Result()
	if errors.Is(err, redis.Nil) {
		return n == 1, nil // not delivered yet: counted when it is linked
	}
	if err != nil {
		return n == 1, err
	}
	l, ok, err := s.ByContact(ctx, hub, contact)
	if err != nil || !ok || l.Referrer == "" {
		return n == 1, err
	}
	pipe := s.rdb.TxPipeline()
	pipe.SAdd(ctx, qofKey(hub, l.Referrer), contact)
	pipe.SAdd(ctx, dirtyKey(hub), l.Referrer)
	if _, err := pipe.Exec(ctx); err != nil {
		return n == 1, err
	}
	return n == 1, s.signal(ctx, hub)
}

// HasCountsToWrite reports whether referrers of the portal wait for their
// counts to be written.
func (s *Service) HasCountsToWrite(ctx context.Context, hub int64) (bool, error) {
	n, err := s.rdb.SCard(ctx, dirtyKey(hub)).Result()
	return n > 0, err
}

// Purge removes a deleted portal's lead state.
func (s *Service) Purge(ctx context.Context, hub int64) error {
	s.mu.Lock()
	delete(s.labels, hub)
	s.mu.Unlock()
	refs, err := s.rdb.HKeys(ctx, refSrcKey(hub)).Result()
	if err != nil {
		return err
	}
	keys := []string{refsKey(hub), refSrcKey(hub), leadKey(hub), codeIdxKey(hub), pendKey(hub), pendIdxKey(hub),
		pendAgeKey(hub), qualKey(hub), maxKey(hub), dirtyKey(hub), labelKey(hub)}
	for _, r := range refs {
		keys = append(keys, ofKey(hub, r), qofKey(hub, r))
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := s.rdb.Del(ctx, keys[:n]...).Err(); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// PurgeSource removes what the lead index keeps of a deleted source at each
// of hubs: its leads' records (which hold their emails), their codes and
// qualification marks, the links they still wait for, and the identity
// keys (email, code, Referral Factory id) that find the contacts the
// source delivered. A lead of another source naming one of its referrers
// then waits for that referrer like one never delivered. The tallies and
// the counts written stay: the contacts stay in HubSpot (deleting a
// source does not touch them), and a referrer's count never goes back.
func (s *Service) PurgeSource(ctx context.Context, hubs []int64, src string) error {
	for _, hub := range hubs {
		if err := s.purgeSource(ctx, hub, src); err != nil {
			return fmt.Errorf("lead index of portal %d: %w", hub, err)
		}
	}
	return nil
}

func (s *Service) purgeSource(ctx context.Context, hub int64, src string) error {
	prefix := src + sep
	// The contacts the source delivered: those it is recorded under, and
	// its leads.
	mine := map[string]bool{}
	err := s.scanHash(ctx, refSrcKey(hub), "", func(contact, loc string) {
		if strings.HasPrefix(loc, prefix) {
			mine[contact] = true
		}
	})
	if err != nil {
		return err
	}
	var leads []string
	err = s.scanHash(ctx, leadKey(hub), "", func(contact, raw string) {
		var l Lead
		if json.Unmarshal([]byte(raw), &l) == nil && l.Source == src {
			leads = append(leads, contact)
		}
	})
	if err != nil {
		return err
	}
	if err := s.dropPending(ctx, hub, leads); err != nil {
		return err
	}
	var refs, codes, quals []string
	err = s.scanHash(ctx, refsKey(hub), "", func(k, contact string) {
		if mine[contact] {
			refs = append(refs, k)
		}
	})
	if err != nil {
		return err
	}
	match := globEscape(prefix) + "*"
	if err := s.scanHash(ctx, codeIdxKey(hub), match, func(k, _ string) { codes = append(codes, k) }); err != nil {
		return err
	}
	it := s.rdb.SScan(ctx, qualKey(hub), 0, match, 1000).Iterator()
	for it.Next(ctx) {
		quals = append(quals, it.Val())
	}
	if err := it.Err(); err != nil {
		return err
	}
	pipe := s.rdb.Pipeline()
	for part := range slices.Chunk(leads, 500) {
		pipe.HDel(ctx, leadKey(hub), part...)
	}
	for part := range slices.Chunk(refs, 500) {
		pipe.HDel(ctx, refsKey(hub), part...)
	}
	for part := range slices.Chunk(codes, 500) {
		pipe.HDel(ctx, codeIdxKey(hub), part...)
	}
	for part := range slices.Chunk(quals, 500) {
		pipe.SRem(ctx, qualKey(hub), toAny(part)...)
	}
	for part := range slices.Chunk(slices.Collect(maps.Keys(mine)), 500) {
		pipe.HDel(ctx, refSrcKey(hub), part...)
	}
	_, err = pipe.Exec(ctx)
	return err
}

// scanHash calls fn with each field and value of the hash key whose field
// matches match ("" for all), a page at a time.
func (s *Service) scanHash(ctx context.Context, key, match string, fn func(field, value string)) error {
	it := s.rdb.HScan(ctx, key, 0, match, 1000).Iterator()
	for it.Next(ctx) {
		field := it.Val()
		if !it.Next(ctx) {
			break
		}
		fn(field, it.Val())
	}
	return it.Err()
}

// globEscape quotes the characters Redis's MATCH patterns give a meaning.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// register indexes the delivered people by their identity keys, stores
// the leads' records and Referral Factory's qualifications, and remembers
// under which source and route each referrer was delivered (its counts
// are written with that mapping).
func (s *Service) register(ctx context.Context, hub int64, ds []Delivered) error {
	pipe := s.rdb.Pipeline()
	for _, d := range ds {
		for _, k := range d.Self {
			pipe.HSet(ctx, refsKey(hub), k, d.ContactID)
		}
		loc := d.Source + sep + d.Route
		if d.Lead {
			pipe.HSetNX(ctx, refSrcKey(hub), d.ContactID, loc)
			pipe.HSet(ctx, codeIdxKey(hub), d.Source+sep+d.leadKey(), d.ContactID)
			if d.Qualified {
				pipe.SAdd(ctx, qualKey(hub), d.Source+sep+d.leadKey())
			}
		} else {
			pipe.HSet(ctx, refSrcKey(hub), d.ContactID, loc)
		}
	}
	_, err := pipe.Exec(ctx)
	return err
}

// resolve returns the contact of the first identity key the index knows,
// for each list of keys.
func (s *Service) resolve(ctx context.Context, hub int64, lists [][]string) ([]string, error) {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	out := make([]string, len(lists))
	if len(all) == 0 {
		return out, nil
	}
	vals, err := s.rdb.HMGet(ctx, refsKey(hub), all...).Result()
	if err != nil {
		return nil, err
	}
	i := 0
	for n, l := range lists {
		for range l {
			if v, ok := vals[i].(string); ok && out[n] == "" {
				out[n] = v
			}
			i++
		}
	}
	return out, nil
}

// saveLead stores a lead's record (its referrer once linked).
func saveLead(ctx context.Context, pipe redis.Pipeliner, hub int64, l Lead) {
	b, _ := json.Marshal(l)
	pipe.HSet(ctx, leadKey(hub), l.ContactID, b)
}
