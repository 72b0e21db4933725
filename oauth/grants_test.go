package oauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

const userSecond int64 = 2

// twoGrants installs the portal as the admin, then as a second admin.
func twoGrants(t *testing.T) (*tokenEnv, *oauth.Tokens, [2]string) {
	e := newTokenEnv(t)
	e.sim.AddPortal(hubspottest.Portal{HubID: hubAcme, Domain: "acme.hubspot.com",
		Users: []hubspottest.User{{ID: userAdmin, Email: "admin@acme.test"}, {ID: userSecond, Email: "second@acme.test"}}})
	tk := e.tokens()
	var access [2]string
	for i, u := range []oauth.Grantor{{UserID: userAdmin, Email: "admin@acme.test"}, {UserID: userSecond, Email: "second@acme.test"}} {
		a, r := e.sim.IssueTokens(hubAcme, u.UserID, nil)
		require.NoError(t, tk.SaveGrant(context.Background(), hubAcme, u, &hubspot.Token{AccessToken: a, RefreshToken: r, ExpiresIn: 30 * time.Minute}))
		access[i] = a
		e.clock.Advance(time.Second)
	}
	return e, tk, access
}

// TestSecondGrantKeepsTheFirstInUse: a second admin's install stores their
// grant sealed without taking delivery away from a grant that works.
func TestSecondGrantKeepsTheFirstInUse(t *testing.T) {
	e, tk, access := twoGrants(t)
	got, err := tk.AccessToken(context.Background(), hubAcme)
	require.NoError(t, err)
	assert.Equal(t, access[0], got)
	gs, err := tk.Grants(context.Background(), hubAcme)
	require.NoError(t, err)
	require.Len(t, gs, 2)
	for _, g := range gs {
		assert.True(t, g.Working)
		assert.Equal(t, g.UserID == userAdmin, g.InUse)
	}
	rts, err := tk.RefreshTokens(context.Background(), hubAcme)
	require.NoError(t, err)
	require.Len(t, rts, 2)
	for _, rt := range rts {
		e.assertNotInRedis(rt)
	}
}

// TestRefreshFailsOverToTheNextGrant: when HubSpot refuses the refresh
// token of the grant in use (its user deactivated), the next working
// grant is refreshed in the same call, and the refused one recorded with
// why; another process follows the switch.
func TestRefreshFailsOverToTheNextGrant(t *testing.T) {
	e, tk, access := twoGrants(t)
	ctx := context.Background()
	e.sim.DeactivateUser(hubAcme, userAdmin)
	e.clock.Advance(26 * time.Minute)
	got, err := tk.AccessToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.NotEqual(t, access[0], got)
	require.NoError(t, e.crmCall(got))
	assert.Equal(t, 1, e.refreshGrants(), "the refused refresh is not counted as a grant")
	other, err := e.tokens().AccessToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.Equal(t, got, other)
	gs, err := tk.Grants(ctx, hubAcme)
	require.NoError(t, err)
	require.Len(t, gs, 2)
	assert.Equal(t, oauth.GrantView{UserID: userSecond, Email: "second@acme.test", Working: true, InUse: true, SavedAt: gs[0].SavedAt}, gs[0])
	assert.Equal(t, userAdmin, gs[1].UserID)
	assert.False(t, gs[1].Working)
	require.NotNil(t, gs[1].FailedAt)
	assert.Equal(t, e.clock.Now().UTC(), *gs[1].FailedAt)
	assert.Contains(t, gs[1].Reason, "HubSpot refused the refresh token")
	assert.Empty(t, e.revokedReason(), "the portal still works")
	last, err := tk.HoldsLastGrant(ctx, hubAcme, userSecond)
	require.NoError(t, err)
	assert.True(t, last)
}

// TestEveryGrantRefused: with every grant refused the keeper answers a
// revoked *ReconnectError naming whose grants failed, and asks HubSpot no
// more; a new install makes it work again.
func TestEveryGrantRefused(t *testing.T) {
	e, tk, _ := twoGrants(t)
	ctx := context.Background()
	e.sim.DeactivateUser(hubAcme, userAdmin)
	e.sim.DeactivateUser(hubAcme, userSecond)
	e.clock.Advance(26 * time.Minute)
	_, err := tk.AccessToken(ctx, hubAcme)
	var re *oauth.ReconnectError
	require.ErrorAs(t, err, &re)
	assert.True(t, re.Revoked)
	assert.Contains(t, re.Reason, "admin@acme.test")
	assert.Contains(t, re.Reason, "second@acme.test")
	assert.Contains(t, re.Reason, "install refhub again")
	requests := e.tokenRequests()
	_, err = e.tokens().AccessToken(ctx, hubAcme)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, requests, e.tokenRequests(), "HubSpot is not asked again")

	e.sim.AddPortal(hubspottest.Portal{HubID: hubAcme, Users: []hubspottest.User{{ID: 3, Email: "third@acme.test"}}})
	a, r := e.sim.IssueTokens(hubAcme, 3, nil)
	require.NoError(t, tk.SaveGrant(ctx, hubAcme, oauth.Grantor{UserID: 3}, &hubspot.Token{AccessToken: a, RefreshToken: r, ExpiresIn: 30 * time.Minute}))
	got, err := e.tokens().AccessToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.Equal(t, a, got)
}

// TestFail: a grant HubSpot refuses with a fresh token (401, scopes) is
// recorded and the next one used; a token already replaced by another
// worker records nothing; with no grant left Fail says so.
func TestFail(t *testing.T) {
	e, tk, access := twoGrants(t)
	ctx := context.Background()
	f, err := tk.Fail(ctx, hubAcme, "some-older-token", "401")
	require.NoError(t, err)
	assert.Equal(t, oauth.GrantFailure{FailedOver: true}, f, "another worker switched already")
	gs, _ := tk.Grants(ctx, hubAcme)
	assert.True(t, gs[0].Working && gs[1].Working)

	f, err = tk.Fail(ctx, hubAcme, access[0], "scopes missing")
	require.NoError(t, err)
	assert.Equal(t, oauth.GrantFailure{Failed: oauth.Grantor{UserID: userAdmin, Email: "admin@acme.test"},
		Next: oauth.Grantor{UserID: userSecond, Email: "second@acme.test"}, FailedOver: true}, f)
	got, err := tk.AccessToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.NotEqual(t, access[0], got, "the next grant's token")

	f, err = tk.Fail(ctx, hubAcme, got, "401 again")
	require.NoError(t, err)
	assert.False(t, f.FailedOver)
	assert.Equal(t, userSecond, f.Failed.UserID)
	_ = e
}

// TestRemoveGrant: a removed member's grant is handed back to be revoked
// and forgotten; delivery moves to the next grant if it used that one.
func TestRemoveGrant(t *testing.T) {
	_, tk, access := twoGrants(t)
	ctx := context.Background()
	rt, err := tk.RemoveGrant(ctx, hubAcme, 99)
	require.NoError(t, err)
	assert.Empty(t, rt, "no grant of that user")
	before, err := tk.RefreshTokens(ctx, hubAcme)
	require.NoError(t, err)
	rt, err = tk.RemoveGrant(ctx, hubAcme, userAdmin)
	require.NoError(t, err)
	assert.Contains(t, before, rt)
	got, err := tk.AccessToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.NotEqual(t, access[0], got, "its access token went with it")
	gs, err := tk.Grants(ctx, hubAcme)
	require.NoError(t, err)
	require.Len(t, gs, 1)
	assert.Equal(t, userSecond, gs[0].UserID)
}

// TestTokensStoredBeforeGrantsMigrate: a portal's tokens as refhub stored
// them before grants were per user (one sealed refresh token in the
// tokens hash) keep working and become the installer's grant.
func TestTokensStoredBeforeGrantsMigrate(t *testing.T) {
	e := newTokenEnv(t)
	ctx := context.Background()
	access, refresh := e.sim.IssueTokens(hubAcme, userAdmin, nil)
	key := tenants.PortalKey(hubAcme, "oauth")
	sealedR, err := e.vault.SealString(refresh, "portal:101:refresh")
	require.NoError(t, err)
	sealedA, err := e.vault.SealString(access, "portal:101:access")
	require.NoError(t, err)
	require.NoError(t, e.rdb.HSet(ctx, key, "refresh", sealedR, "access", sealedA,
		"expiry", e.clock.Now().Add(30*time.Minute).UnixMilli(), "fp", "x", "key", "k1", "revoked", "").Err())

	tk := e.tokens()
	tk.UseInstallers(installers{hubAcme: {HubID: hubAcme, InstalledByID: userAdmin, InstalledByEmail: "admin@acme.test"}})
	e.clock.Advance(26 * time.Minute)
	got, err := tk.AccessToken(ctx, hubAcme)
	require.NoError(t, err)
	assert.NotEqual(t, access, got, "refreshed with the migrated refresh token")
	assert.Equal(t, 1, e.refreshGrants())
	assert.False(t, e.rdb.HExists(ctx, key, "refresh").Val(), "moved out of the tokens hash")
	gs, err := tk.Grants(ctx, hubAcme)
	require.NoError(t, err)
	require.Len(t, gs, 1)
	assert.Equal(t, userAdmin, gs[0].UserID)
	assert.Equal(t, "admin@acme.test", gs[0].Email)
	assert.True(t, gs[0].InUse)
}

type installers map[int64]tenants.Portal

func (m installers) Portal(_ context.Context, hub int64) (tenants.Portal, error) {
	p, ok := m[hub]
	if !ok {
		return p, tenants.ErrNotFound
	}
	return p, nil
}
