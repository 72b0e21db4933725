package leads

import (
	"context"
	"encoding/json"
)

// Forget deletes what the portal's lead index keeps about a person named
// by one of emails or contactIDs (a privacy deletion): their lead record
// and its qualification mark, the identity keys that find their contact,
// their pending link, their own tallies as a referrer, and their place in
// others' — and the pending links of leads that name them as referrer by
// email lose that key. It returns how many records it deleted.
func (s *Service) Forget(ctx context.Context, hub int64, emails, contactIDs []string) (int, error) {
	contacts := map[string]bool{}
	for _, c := range contactIDs {
		if c != "" {
			contacts[c] = true
		}
	}
	keys := make([]string, 0, len(emails))
	for _, e := range emails {
		keys = append(keys, emailKey(e))
	}
	if len(keys) > 0 {
		ids, err := s.rdb.HMGet(ctx, refsKey(hub), keys...).Result()
		if err != nil {
			return 0, err
		}
		for _, v := range ids {
			if c, ok := v.(string); ok && c != "" {
				contacts[c] = true
			}
		}
	}
	all, err := s.rdb.HGetAll(ctx, leadKey(hub)).Result()
	if err != nil {
		return 0, err
	}
	for c, raw := range all {
		var l Lead
		if json.Unmarshal([]byte(raw), &l) == nil && containsFold(emails, l.Email) {
			contacts[c] = true
		}
	}
	// The identity keys that find each contact, read once for all of them.
	byContact := map[string][]string{}
	if len(contacts) > 0 {
		refs, err := s.rdb.HGetAll(ctx, refsKey(hub)).Result()
		if err != nil {
			return 0, err
		}
		for k, c := range refs {
			if contacts[c] {
				byContact[c] = append(byContact[c], k)
			}
		}
	}
	n := 0
	for c := range contacts {
		m, err := s.forgetContact(ctx, hub, c, all[c], byContact[c])
		if err != nil {
			return n, err
		}
		n += m
	}
	m, err := s.forgetReferrerKeys(ctx, hub, keys)
	return n + m, err
}

// forgetContact deletes one contact's records; raw is its lead record, if
// it is a lead, and refs the identity keys that find it.
func (s *Service) forgetContact(ctx context.Context, hub int64, c, raw string, refs []string) (int, error) {
	if err := s.dropPending(ctx, hub, []string{c}); err != nil {
		return 0, err
	}
	pipe := s.rdb.Pipeline()
	if len(refs) > 0 {
		pipe.HDel(ctx, refsKey(hub), refs...)
	}
	n := len(refs)
	if raw != "" {
		var l Lead
		if json.Unmarshal([]byte(raw), &l) == nil {
			pipe.HDel(ctx, codeIdxKey(hub), l.Source+sep+qualName(l))
			pipe.SRem(ctx, qualKey(hub), l.Source+sep+qualName(l))
			if l.Referrer != "" {
				pipe.SRem(ctx, ofKey(hub, l.Referrer), c)
				pipe.SRem(ctx, qofKey(hub, l.Referrer), c)
				pipe.SAdd(ctx, dirtyKey(hub), l.Referrer)
			}
		}
		pipe.HDel(ctx, leadKey(hub), c)
		n++
	}
	pipe.Del(ctx, ofKey(hub, c), qofKey(hub, c))
	pipe.HDel(ctx, maxKey(hub), maxField(c, "n"), maxField(c, "q"))
	pipe.HDel(ctx, refSrcKey(hub), c)
	pipe.SRem(ctx, dirtyKey(hub), c)
	_, err := pipe.Exec(ctx)
	return n, err
}

// forgetReferrerKeys removes the forgotten identity keys from the pending
// links of leads that wait for a referrer named by them; a lead left with
// no key stops waiting.
func (s *Service) forgetReferrerKeys(ctx context.Context, hub int64, keys []string) (int, error) {
	ws, err := s.waitingFor(ctx, hub, keys)
	if err != nil || len(ws) == 0 {
		return 0, err
	}
	n := 0
	for _, w := range ws {
		raw, err := s.rdb.HGet(ctx, pendKey(hub), w.lead).Result()
		if err != nil {
			continue
		}
		var p pendingLink
		if json.Unmarshal([]byte(raw), &p) != nil {
			continue
		}
		var kept []string
		for _, k := range p.Keys {
			if containsFold(keys, k) {
				s.rdb.ZRem(ctx, pendIdxKey(hub), k+sep+w.lead)
				n++
				continue
			}
			kept = append(kept, k)
		}
		if len(kept) == 0 {
			if err := s.dropPending(ctx, hub, []string{w.lead}); err != nil {
				return n, err
			}
			continue
		}
		p.Keys = kept
		b, _ := json.Marshal(p)
		if err := s.rdb.HSet(ctx, pendKey(hub), w.lead, b).Err(); err != nil {
			return n, err
		}
	}
	return n, nil
}
