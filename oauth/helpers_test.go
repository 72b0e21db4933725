package oauth_test

import (
	"context"
	"errors"
	"github.com/refhub/refhub/internal/clocktest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/oauth"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const (
	hubAcme     int64 = 101
	userAdmin   int64 = 1
	callbackURL       = "https://refhub.example.com/oauth/callback"
)

func newClock() *clocktest.Clock { return clocktest.New(time.Now().Truncate(time.Second)) }

// tokenEnv is a simulator with one portal, a Redis database, a vault and a
// HubSpot client, all on one fake clock.
type tokenEnv struct {
	t      *testing.T
	clock  *clocktest.Clock
	sim    *hubspottest.Server
	client *hubspot.Client
	rdb    *redis.Client
	vault  *oauth.Vault
}

func newTokenEnv(t *testing.T, mods ...func(*hubspottest.Options)) *tokenEnv {
	t.Helper()
	clock := newClock()
	opts := hubspottest.Options{RedirectURIs: []string{callbackURL}, Clock: clock.Now}
	for _, m := range mods {
		m(&opts)
	}
	sim := hubspottest.NewTestServer(t, opts)
	sim.AddPortal(hubspottest.Portal{HubID: hubAcme, Domain: "acme.hubspot.com",
		Users: []hubspottest.User{{ID: userAdmin, Email: "admin@acme.test"}}})
	vault, err := oauth.NewVault(oauth.GenerateKeySpec("k1"))
	require.NoError(t, err)
	return &tokenEnv{
		t: t, clock: clock, sim: sim, rdb: redistest.Client(t), vault: vault,
		client: hubspot.New(hubspot.Config{APIBase: sim.URL(), AppBase: sim.URL(),
			ClientID: "test-client-id", ClientSecret: "test-client-secret"}),
	}
}

// tokens returns a new keeper, as another refhub process would have one:
// its own cache and singleflight, the shared Redis and HubSpot.
func (e *tokenEnv) tokens() *oauth.Tokens {
	return oauth.NewTokens(e.rdb, e.vault, e.client, e.clock.Now)
}

// install mints tokens at the simulator and saves them as an install would.
func (e *tokenEnv) install(tokens *oauth.Tokens) (access, refresh string) {
	e.t.Helper()
	access, refresh = e.sim.IssueTokens(hubAcme, userAdmin, nil)
	require.NoError(e.t, tokens.Save(context.Background(), hubAcme, &hubspot.Token{
		AccessToken: access, RefreshToken: refresh, HubID: hubAcme,
		ExpiresIn: 30 * time.Minute, Expiry: time.Now().Add(30 * time.Minute), // as Exchange returns them
	}))
	return access, refresh
}

// revokedReason is the refusal recorded with the portal's tokens ("" when
// none is).
func (e *tokenEnv) revokedReason() string {
	e.t.Helper()
	v, err := e.rdb.HGet(context.Background(), "{p:"+strconv.FormatInt(hubAcme, 10)+"}:oauth", "revoked").Result()
	if errors.Is(err, redis.Nil) {
		return ""
	}
	require.NoError(e.t, err)
	return v
}

func (e *tokenEnv) refreshGrants() int { return e.sim.TokenGrants(hubAcme, "refresh_token") }

func (e *tokenEnv) tokenRequests() int {
	return e.sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == "oauth.token" })
}

// crmCall makes one CRM call with token and returns its error.
func (e *tokenEnv) crmCall(token string) error {
	p := e.client.Portal(hubAcme, func(context.Context) (string, error) { return token, nil }, nil)
	_, err := p.ReadByEmail(context.Background(), []string{"someone@example.com"}, nil)
	return err
}

// assertNotInRedis checks that no key or value holds secret in plain text.
func (e *tokenEnv) assertNotInRedis(secret string) {
	e.t.Helper()
	ctx := context.Background()
	keys, err := e.rdb.Keys(ctx, "*").Result()
	require.NoError(e.t, err)
	require.NotEmpty(e.t, keys)
	for _, k := range keys {
		assert.NotContains(e.t, k, secret)
		typ, err := e.rdb.Type(ctx, k).Result()
		require.NoError(e.t, err)
		var vals []string
		switch typ {
		case "string":
			vals = []string{e.rdb.Get(ctx, k).Val()}
		case "hash":
			for f, v := range e.rdb.HGetAll(ctx, k).Val() {
				vals = append(vals, f, v)
			}
		default:
			e.t.Fatalf("unexpected key %s of type %s", k, typ)
		}
		assert.NotContains(e.t, strings.Join(vals, "\n"), secret, "key %s holds the secret in plain text", k)
	}
}
