package tenants_test

import (
	"context"
	"github.com/refhub/refhub/internal/clocktest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

func TestMain(m *testing.M) { redistest.Main(m) }

type env struct {
	rdb   *redis.Client
	store *tenants.RedisStore
	clock *clocktest.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rdb := redistest.Client(t)
	vault, err := oauth.NewVault(oauth.GenerateKeySpec("k1"))
	require.NoError(t, err)
	clock := clocktest.New(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	return &env{rdb: rdb, store: tenants.NewRedisStore(rdb, vault, clock.Now), clock: clock}
}

// dump returns every key of the database with everything stored under it,
// whatever the type, as one string per key.
func dump(t *testing.T, rdb *redis.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	iter := rdb.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		typ, err := rdb.Type(ctx, key).Result()
		require.NoError(t, err)
		var parts []string
		switch typ {
		case "string":
			v, err := rdb.Get(ctx, key).Result()
			require.NoError(t, err)
			parts = []string{v}
		case "hash":
			m, err := rdb.HGetAll(ctx, key).Result()
			require.NoError(t, err)
			for k, v := range m {
				parts = append(parts, k, v)
			}
		case "set":
			parts, err = rdb.SMembers(ctx, key).Result()
			require.NoError(t, err)
		case "zset":
			parts, err = rdb.ZRange(ctx, key, 0, -1).Result()
			require.NoError(t, err)
		case "list":
			parts, err = rdb.LRange(ctx, key, 0, -1).Result()
			require.NoError(t, err)
		default:
			t.Fatalf("key %s has unexpected type %s", key, typ)
		}
		out[key] = strings.Join(parts, "\n")
	}
	require.NoError(t, iter.Err())
	return out
}

// assertNotStored checks that secret appears in no key and no value.
func assertNotStored(t *testing.T, rdb *redis.Client, secret string) {
	t.Helper()
	all := dump(t, rdb)
	require.NotEmpty(t, all)
	for k, v := range all {
		assert.NotContains(t, k, secret, "a key contains the secret in plain text")
		assert.NotContains(t, v, secret, "the value of %s contains the secret in plain text", k)
	}
}

func install(hub, user int64) tenants.Installation {
	return tenants.Installation{
		HubID: hub, Domain: "hub-" + itoa(hub) + ".example.com", UserID: user,
		UserEmail: "user" + itoa(user) + "@example.com", Scopes: []string{"oauth", "crm.objects.contacts.write"},
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
