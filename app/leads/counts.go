package leads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// Referral counts on a referrer's contact: the highest of what Referral
// Factory sent (its own counts, mapped like any field) and refhub's tally
// (the distinct leads linked to the referrer, and those qualified). The
// highest value written is remembered per referrer and property, and a
// count is only ever written higher: events that arrive out of order never
// make a count go back.

func maxField(ref, which string) string { return ref + sep + which }

// countsPerRound bounds the batch updates of counts one delivery round
// makes; referrers left over are written by the next round.
const countsPerRound = 5

// Raise lifts the count properties a delivery is about to write (from a
// payload Referral Factory sent earlier than a newer one already written)
// to the highest value written before, so a count never goes back. subjects
// and props are parallel: each signup and the properties it will write.
func (s *Service) Raise(ctx context.Context, hub int64, subjects []Subject, props []map[string]string) error {
	var lists [][]string
	var at []int
	for i, sub := range subjects {
		if sub.Lead || (sub.CountProps.Leads == "" && sub.CountProps.Qualified == "") {
			continue
		}
		lists, at = append(lists, sub.Self), append(at, i)
	}
	if len(lists) == 0 {
		return nil
	}
	contacts, err := s.resolve(ctx, hub, lists)
	if err != nil {
		return err
	}
	var fields []string
	var targets []func(string)
	for n, i := range at {
		if contacts[n] == "" {
			continue
		}
		for _, c := range []struct{ which, prop string }{{"n", subjects[i].CountProps.Leads}, {"q", subjects[i].CountProps.Qualified}} {
			if c.prop == "" {
				continue
			}
			p, prop := props[i], c.prop
			fields = append(fields, maxField(contacts[n], c.which))
			targets = append(targets, func(high string) {
				// Only a count is raised: a value that is not one is left for
				// HubSpot to refuse, so the admin sees the mapping is wrong.
				h, hok := count(high)
				if v, ok := count(p[prop]); ok && hok && v < h {
					p[prop] = strconv.FormatInt(h, 10)
				}
			})
		}
	}
	if len(fields) == 0 {
		return nil
	}
	vals, err := s.rdb.HMGet(ctx, maxKey(hub), fields...).Result()
	if err != nil {
		return err
	}
	for i, v := range vals {
		if high, ok := v.(string); ok {
			targets[i](high)
		}
	}
	return nil
}

// noteSent remembers the counts delivery just wrote on referrers.
func (s *Service) noteSent(ctx context.Context, hub int64, ds []Delivered) error {
	var fields []string
	var sent []int64
	for _, d := range ds {
		if d.Lead {
			continue
		}
		for _, c := range []struct{ which, prop string }{{"n", d.CountProps.Leads}, {"q", d.CountProps.Qualified}} {
			if v, ok := count(d.Sent[c.prop]); ok && c.prop != "" {
				fields, sent = append(fields, maxField(d.ContactID, c.which)), append(sent, v)
			}
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return s.raiseMax(ctx, hub, fields, sent)
}

// raiseMax stores each value as its field's highest if it is higher.
func (s *Service) raiseMax(ctx context.Context, hub int64, fields []string, values []int64) error {
	old, err := s.rdb.HMGet(ctx, maxKey(hub), fields...).Result()
	if err != nil {
		return err
	}
	var set []any
	for i, f := range fields {
		if o, ok := old[i].(string); ok {
			if h, ok := count(o); ok && h >= values[i] {
				continue
			}
		}
		set = append(set, f, values[i])
	}
	if len(set) == 0 {
		return nil
	}
	return s.rdb.HSet(ctx, maxKey(hub), set...).Err()
}

func count(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
		return int64(f), true
	}
	return 0, false
}

// countUpdate is one referrer's counts to write.
type countUpdate struct {
	ref     string
	entries []countEntry
}

// countEntry is one count property to write, and its field among the
// highest values written.
type countEntry struct {
	field, prop string
	value       int64
}

func (u countUpdate) props() map[string]string {
	out := make(map[string]string, len(u.entries))
	for _, e := range u.entries {
		out[e.prop] = strconv.FormatInt(e.value, 10)
	}
	return out
}

// WriteCounts writes the counts of the referrers whose tallies changed
// (up to countsPerRound batch updates; more are left for the next round).
// A referrer whose contact is gone, or whose count properties HubSpot
// refuses, is dropped with a log line; other failures are returned and the
// referrers stay to write.
func (s *Service) WriteCounts(ctx context.Context, hub int64, api API, src Sources, defs map[string]hubspot.Property) error {
	for range countsPerRound {
		refs, err := s.rdb.SRandMemberN(ctx, dirtyKey(hub), hubspot.MaxBatch).Result()
		if err != nil || len(refs) == 0 {
			return err
		}
		ups, err := s.plannedCounts(ctx, hub, refs, src, defs)
		if err != nil {
			return err
		}
		if len(ups) > 0 {
			if err := s.sendCounts(ctx, hub, api, ups); err != nil {
				return err
			}
		}
		if err := s.rdb.SRem(ctx, dirtyKey(hub), toAny(refs)...).Err(); err != nil {
			return err
		}
	}
	return nil
}

// plannedCounts computes each referrer's counts and returns those higher
// than what was written before.
func (s *Service) plannedCounts(ctx context.Context, hub int64, refs []string, src Sources, defs map[string]hubspot.Property) ([]countUpdate, error) {
	locs, err := s.rdb.HMGet(ctx, refSrcKey(hub), refs...).Result()
	if err != nil {
		return nil, err
	}
	pipe := s.rdb.Pipeline()
	type tally struct{ n, q interface{ Val() int64 } }
	tallies := make([]tally, len(refs))
	var highs []interface{ Val() string }
	for i, r := range refs {
		tallies[i] = tally{pipe.SCard(ctx, ofKey(hub, r)), pipe.SCard(ctx, qofKey(hub, r))}
		highs = append(highs, pipe.HGet(ctx, maxKey(hub), maxField(r, "n")), pipe.HGet(ctx, maxKey(hub), maxField(r, "q")))
	}
	if _, err := pipe.Exec(ctx); err != nil && !isNil(err) {
		return nil, err
	}
	var ups []countUpdate
	for i, r := range refs {
		loc, _ := locs[i].(string)
		props, err := s.countProps(ctx, loc, src)
		if err != nil {
			return nil, err
		}
		u := countUpdate{ref: r}
		for k, c := range []countEntry{{"n", props.Leads, tallies[i].n.Val()}, {"q", props.Qualified, tallies[i].q.Val()}} {
			if _, known := defs[c.prop]; c.prop == "" || (defs != nil && !known) {
				continue
			}
			if h, ok := count(highs[2*i+k].Val()); ok && h >= c.value {
				continue
			}
			u.entries = append(u.entries, countEntry{field: maxField(r, c.field), prop: c.prop, value: c.value})
		}
		if len(u.entries) > 0 {
			ups = append(ups, u)
		}
	}
	return ups, nil
}

// countProps returns the count properties of the mapping a referrer was
// delivered with (loc: source \x1f route).
func (s *Service) countProps(ctx context.Context, loc string, src Sources) (Counts, error) {
	id, route, ok := strings.Cut(loc, sep)
	if !ok {
		return Counts{}, nil
	}
	source, err := src.Source(ctx, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return Counts{}, nil
	}
	if err != nil {
		return Counts{}, err
	}
	return CountProperties(source.MappingFor(route)), nil
}

// sendCounts writes the counts in one batch update.
func (s *Service) sendCounts(ctx context.Context, hub int64, api API, ups []countUpdate) error {
	inputs := make([]hubspot.UpdateInput, len(ups))
	for i, u := range ups {
		inputs[i] = hubspot.UpdateInput{ID: u.ref, Properties: u.props()}
	}
	updated, _, err := api.Update(ctx, inputs)
	var ve *hubspot.ValidationError
	if errors.As(err, &ve) {
		s.log.Warn("HubSpot refused the referral counts of referrers; they are not written until their counts change again",
			slog.Int64("portal", hub), slog.Int("referrers", len(ups)), slog.Any("err", err))
		return nil
	}
	if err != nil {
		return fmt.Errorf("portal %d: write referral counts: %w", hub, err)
	}
	var fields []string
	var values []int64
	for _, u := range ups {
		if _, ok := updated[u.ref]; !ok {
			continue // the contact was deleted or merged meanwhile
		}
		for _, e := range u.entries {
			fields, values = append(fields, e.field), append(values, e.value)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return s.raiseMax(ctx, hub, fields, values)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
