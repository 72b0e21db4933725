package tenants_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/tenants"
)

func TestCreateAPIToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tok, secret, err := e.store.CreateAPIToken(ctx, "ws_a", tenants.Member{}, "  CI deploys  ")
	require.NoError(t, err)

	assert.True(t, strings.HasPrefix(secret, tenants.APITokenPrefix), secret)
	assert.GreaterOrEqual(t, len(secret), len(tenants.APITokenPrefix)+43, "the secret carries 256 random bits")
	assert.True(t, strings.HasPrefix(tok.ID, "tok_"), tok.ID)
	assert.Equal(t, "ws_a", tok.WorkspaceID)
	assert.Equal(t, "CI deploys", tok.Name)
	assert.Equal(t, secret[:9], tok.Prefix)
	assert.Equal(t, e.clock.Now(), tok.CreatedAt)

	got, err := e.store.APIToken(ctx, secret)
	require.NoError(t, err)
	assert.Equal(t, tok.ID, got.ID)
	assert.Equal(t, "ws_a", got.WorkspaceID)
	assert.Equal(t, tok.Prefix, got.Prefix)

	assertNotStored(t, e.rdb, secret)
	assertNotStored(t, e.rdb, strings.TrimPrefix(secret, tenants.APITokenPrefix))
}

func TestCreateAPITokenName(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		ok   bool
	}{
		{name: "", ok: false},
		{name: "   ", ok: false},
		{name: strings.Repeat("n", 101), ok: false},
		{name: strings.Repeat("n", 100), ok: true},
		{name: "x", ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, secret, err := e.store.CreateAPIToken(context.Background(), "ws_a", tenants.Member{}, tc.name)
			if tc.ok {
				assert.NoError(t, err)
				assert.NotEmpty(t, secret)
				return
			}
			var ve *tenants.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, []string{"give the token a name of 1 to 100 characters"}, ve.Problems)
			assert.Empty(t, secret)
		})
	}
}

func TestAPITokenLookupFailures(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, secret, err := e.store.CreateAPIToken(ctx, "ws_a", tenants.Member{}, "a")
	require.NoError(t, err)
	tests := []struct{ name, secret string }{
		{"empty", ""},
		{"without prefix", strings.TrimPrefix(secret, tenants.APITokenPrefix)},
		{"unknown", tenants.APITokenPrefix + tenants.NewSecret()},
		{"truncated", secret[:len(secret)-1]},
		{"prefix only", secret[:9]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.store.APIToken(ctx, tc.secret)
			assert.ErrorIs(t, err, tenants.ErrNotFound)
		})
	}
}

func TestListAndRevokeAPITokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, s1, err := e.store.CreateAPIToken(ctx, "ws_a", tenants.Member{}, "first")
	require.NoError(t, err)
	e.clock.Advance(time.Second)
	second, s2, err := e.store.CreateAPIToken(ctx, "ws_a", tenants.Member{}, "second")
	require.NoError(t, err)
	e.clock.Advance(time.Second)
	third, s3, err := e.store.CreateAPIToken(ctx, "ws_a", tenants.Member{}, "third")
	require.NoError(t, err)
	theirs, sOther, err := e.store.CreateAPIToken(ctx, "ws_b", tenants.Member{}, "theirs")
	require.NoError(t, err)

	list, err := e.store.APITokens(ctx, "ws_a")
	require.NoError(t, err)
	assert.Equal(t, []tenants.APIToken{first, second, third}, list, "oldest first, only this workspace's")

	t.Run("another workspace cannot revoke", func(t *testing.T) {
		err := e.store.RevokeAPIToken(ctx, "ws_b", first.ID)
		assert.ErrorIs(t, err, tenants.ErrNotFound)
		_, err = e.store.APIToken(ctx, s1)
		assert.NoError(t, err)
	})

	require.NoError(t, e.store.RevokeAPIToken(ctx, "ws_a", second.ID))
	_, err = e.store.APIToken(ctx, s2)
	assert.ErrorIs(t, err, tenants.ErrNotFound, "a revoked token stops working at once")
	for _, s := range []string{s1, s3, sOther} {
		_, err := e.store.APIToken(ctx, s)
		assert.NoError(t, err, "the other tokens keep working")
	}
	list, err = e.store.APITokens(ctx, "ws_a")
	require.NoError(t, err)
	assert.Equal(t, []tenants.APIToken{first, third}, list)
	listB, err := e.store.APITokens(ctx, "ws_b")
	require.NoError(t, err)
	assert.Equal(t, []tenants.APIToken{theirs}, listB)

	assert.ErrorIs(t, e.store.RevokeAPIToken(ctx, "ws_a", second.ID), tenants.ErrNotFound, "revoking twice")
	assert.ErrorIs(t, e.store.RevokeAPIToken(ctx, "ws_a", "tok_nope"), tenants.ErrNotFound)

	for _, s := range []string{s1, s2, s3, sOther} {
		assertNotStored(t, e.rdb, s)
	}
}
