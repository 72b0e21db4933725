package qualify_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/qualify"
	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/tenants"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// redisLeads is a lead store in Redis the tests seed, standing in for the
// leads room: a lead by HubSpot contact, and a qualified tally.
type redisLeads struct{ rdb redis.UniversalClient }

func leadsKey(hub int64) string     { return tenants.PortalKey(hub, "testleads") }
func qualifiedKey(hub int64) string { return tenants.PortalKey(hub, "testqualified") }

func (l redisLeads) Seed(t *testing.T, hub int64, lead qualify.Lead) {
	t.Helper()
	raw, _ := json.Marshal(lead)
	if err := l.rdb.HSet(context.Background(), leadsKey(hub), lead.ContactID, raw).Err(); err != nil {
		t.Fatal(err)
	}
}

func (l redisLeads) ByContact(ctx context.Context, hub int64, contactID string) (qualify.Lead, bool, error) {
	raw, err := l.rdb.HGet(ctx, leadsKey(hub), contactID).Bytes()
	if errors.Is(err, redis.Nil) {
		return qualify.Lead{}, false, nil
	}
	if err != nil {
		return qualify.Lead{}, false, err
	}
	var lead qualify.Lead
	return lead, true, json.Unmarshal(raw, &lead)
}

func (l redisLeads) MarkQualified(ctx context.Context, hub int64, source, code string) (bool, error) {
	n, err := l.rdb.SAdd(ctx, qualifiedKey(hub), source+":"+code).Result()
	return n == 1, err
}

func (l redisLeads) Qualified(t *testing.T, hub int64) []string {
	t.Helper()
	m, err := l.rdb.SMembers(context.Background(), qualifiedKey(hub)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Forget deletes the leads naming one of emails or contactIDs, as the
// leads room does for a privacy deletion.
func (l redisLeads) Forget(ctx context.Context, hub int64, emails, contactIDs []string) (int, error) {
	all, err := l.rdb.HGetAll(ctx, leadsKey(hub)).Result()
	if err != nil {
		return 0, err
	}
	n := 0
	for id, raw := range all {
		var lead qualify.Lead
		_ = json.Unmarshal([]byte(raw), &lead)
		hit := false
		for _, e := range emails {
			hit = hit || strings.EqualFold(e, lead.Email)
		}
		for _, c := range contactIDs {
			hit = hit || c == id
		}
		if hit {
			l.rdb.HDel(ctx, leadsKey(hub), id)
			l.rdb.SRem(ctx, qualifiedKey(hub), lead.Source+":"+lead.Code)
			n++
		}
	}
	return n, nil
}
