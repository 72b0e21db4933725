package systest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
)

// secretsOf lists every secret of a cluster run: the tokens HubSpot issued,
// the client secret, the session secret, the encryption key material.
func (c *cluster) secretsOf() map[string]string {
	out := map[string]string{}
	for _, tok := range c.sim.IssuedTokens() {
		out[tok] = "HubSpot token"
	}
	for _, kv := range c.env {
		name, val, _ := strings.Cut(kv, "=")
		switch name {
		case "HUBSPOT_CLIENT_SECRET", "REFHUB_SESSION_SECRET":
			out[val] = name
		case "REFHUB_ENCRYPTION_KEYS":
			for _, entry := range strings.Split(val, ",") {
				_, key, _ := strings.Cut(entry, ":")
				out[key] = name
			}
		}
	}
	return out
}

// checkNoSecrets: no secret appears in any Redis value or key, nor in any
// log line of any replica.
func checkNoSecrets(t *testing.T, c *cluster, rdb redis.UniversalClient) {
	t.Helper()
	secrets := c.secretsOf()
	if len(secrets) < 10 {
		t.Fatalf("expected the tokens of the run among the secrets, got %d", len(secrets))
	}
	data := redisDump(t, rdb)
	for secret, what := range secrets {
		assert.NotContains(t, data, secret, "%s found in Redis", what)
	}
	lines := c.logs()
	for _, l := range lines {
		for secret, what := range secrets {
			if strings.Contains(l, secret) {
				t.Errorf("%s found in a log line: %.200s", what, l)
			}
		}
	}
	t.Logf("secrets check: %d secrets, %d bytes of Redis data, %d log lines: none found", len(secrets), len(data), len(lines))
}

// redisDump returns every key and value of the database as text.
func redisDump(t *testing.T, rdb redis.UniversalClient) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	dump := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, "*", 1000).Iterator()
		for it.Next(ctx) {
			k := it.Val()
			b.WriteString(k + "\n")
			switch c.Type(ctx, k).Val() {
			case "string":
				b.WriteString(c.Get(ctx, k).Val())
			case "hash":
				fmt.Fprint(&b, c.HGetAll(ctx, k).Val())
			case "set":
				fmt.Fprint(&b, c.SMembers(ctx, k).Val())
			case "zset":
				fmt.Fprint(&b, c.ZRangeWithScores(ctx, k, 0, -1).Val())
			case "list":
				fmt.Fprint(&b, c.LRange(ctx, k, 0, -1).Val())
			case "stream":
				fmt.Fprint(&b, c.XRange(ctx, k, "-", "+").Val())
			}
			b.WriteString("\n")
		}
		return it.Err()
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return dump(ctx, c) })
	} else {
		err = dump(ctx, rdb)
	}
	if err != nil {
		t.Fatalf("dump redis: %v", err)
	}
	return b.String()
}
