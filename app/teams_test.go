package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// teamEnv is an agency's workspace: its owner (user 501) installed portals
// 1001 (Acme, whose admin 777 is the client) and 1002 (Initech), with a
// source on each.
type teamEnv struct {
	env        *apptest.Env
	owner      *apptest.Browser
	acme, init apptest.Source
}

const (
	ownerID  = 501
	clientID = 777
	thirdID  = 888
)

func startTeam(t *testing.T, clock bool) *teamEnv {
	o := apptest.Options{Portals: []hubspottest.Portal{
		{HubID: 1001, Domain: "acme.hubspot.test", Users: []hubspottest.User{
			{ID: ownerID, Email: "owner@agency.test"}, {ID: clientID, Email: "client@acme.test"}, {ID: thirdID, Email: "it@acme.test"}}},
		{HubID: 1002, Domain: "initech.hubspot.test", Users: []hubspottest.User{{ID: ownerID, Email: "owner@agency.test"}}},
	}}
	if clock {
		o.Clock = apptest.NewClock()
	}
	env := apptest.Start(t, o)
	te := &teamEnv{env: env, owner: env.Install(1001, ownerID)}
	te.owner.Install(1002, ownerID)
	te.acme = te.owner.CreateSource(1001, "Acme referrals")
	te.init = te.owner.CreateSource(1002, "Initech referrals")
	return te
}

type memberJSON struct {
	ID        int64           `json:"id"`
	Email     string          `json:"email"`
	Role      string          `json:"role"`
	Portals   json.RawMessage `json:"portals"`
	JoinedAt  time.Time       `json:"joined_at"`
	JoinedVia int64           `json:"joined_via_hub_id"`
}

func (te *teamEnv) members(t *testing.T, b *apptest.Browser) []memberJSON {
	t.Helper()
	var out struct{ Members []memberJSON }
	b.JSON(http.MethodGet, "/api/v1/members", nil, http.StatusOK, &out)
	return out.Members
}

func hubsOf(ps []apptest.Portal) []int64 {
	var out []int64
	for _, p := range ps {
		out = append(out, p.HubID)
	}
	return out
}

// TestSecondAdminJoins: a HubSpot admin of a portal the workspace holds
// signs in through the install flow and sees exactly that portal and its
// sources; the owner sees who joined, when and through which portal.
func TestSecondAdminJoins(t *testing.T) {
	te := startTeam(t, false)
	client := te.env.Install(1001, clientID)

	assert.Equal(t, []int64{1001}, hubsOf(client.Portals()), "only the portal they installed")
	var srcs struct{ Sources []struct{ ID string } }
	client.JSON(http.MethodGet, "/api/v1/sources", nil, http.StatusOK, &srcs)
	require.Len(t, srcs.Sources, 1)
	assert.Equal(t, te.acme.ID, srcs.Sources[0].ID)
	for _, path := range []string{"/api/v1/portals/1002", "/api/v1/sources/" + te.init.ID, "/api/v1/sources/" + te.init.ID + "/activity"} {
		status, body := client.Do(http.MethodGet, path, nil)
		assert.Equal(t, http.StatusNotFound, status, path)
		assert.NotContains(t, string(body), "initech", path)
	}
	status, home := apptest.Get(t, client, te.env.URL("/app/"))
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, home, "acme.hubspot.test")
	assert.NotContains(t, home, "initech")
	status, _ = client.Do(http.MethodPatch, "/api/v1/sources/"+te.acme.ID, map[string]any{"name": "Renamed by the client"})
	assert.Equal(t, http.StatusOK, status, "an admin of the portal changes its sources")

	ms := te.members(t, te.owner)
	require.Len(t, ms, 2)
	assert.Equal(t, "owner", ms[0].Role)
	assert.JSONEq(t, `"all"`, string(ms[0].Portals))
	assert.Equal(t, memberJSON{ID: clientID, Email: "client@acme.test", Role: "admin", Portals: json.RawMessage(`[1001]`),
		JoinedAt: ms[1].JoinedAt, JoinedVia: 1001}, ms[1])
	assert.WithinDuration(t, time.Now(), ms[1].JoinedAt, time.Minute)
	status, page := apptest.Get(t, te.owner, te.env.URL("/app/members"))
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "client@acme.test")
	assert.Contains(t, page, "through acme.hubspot.test")

	// The client sees who is there, but not the portals they were not granted.
	ms = te.members(t, client)
	require.Len(t, ms, 2)
	status, page = apptest.Get(t, client, te.env.URL("/app/members"))
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, page, "initech")
	assert.Contains(t, html.UnescapeString(page), "Only the workspace's owner")
	status, _ = client.Do(http.MethodPatch, fmt.Sprintf("/api/v1/members/%d", clientID), map[string]any{"role": "admin", "portals": "all"})
	assert.Equal(t, http.StatusForbidden, status, "only the owner manages members")
	assert.Equal(t, []int64{1001}, hubsOf(client.Portals()))
}

// TestOwnerGrantsAndRemoves: the owner widens a member's portals, makes
// them a viewer (read only), then removes them: their session and API
// token stop working at once and their HubSpot grant is revoked.
func TestOwnerGrantsAndRemoves(t *testing.T) {
	te := startTeam(t, false)
	ctx := context.Background()
	before, err := te.env.App.Tokens().RefreshTokens(ctx, 1001)
	require.NoError(t, err)
	initech, err := te.env.App.Tokens().RefreshTokens(ctx, 1002)
	require.NoError(t, err)
	client := te.env.Install(1001, clientID)
	var tok struct{ Secret string }
	client.JSON(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "client's script"}, http.StatusCreated, &tok)
	byToken := func(method, path string) int {
		req, _ := http.NewRequest(method, te.env.URL(path), nil)
		req.Header.Set("Authorization", "Bearer "+tok.Secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusNotFound, byToken(http.MethodGet, "/api/v1/portals/1002"), "the token acts with its member's rights")

	member := fmt.Sprintf("/api/v1/members/%d", clientID)
	var m memberJSON
	te.owner.JSON(http.MethodPatch, member, map[string]any{"role": "viewer", "portals": "all"}, http.StatusOK, &m)
	assert.Equal(t, "viewer", m.Role)
	assert.Equal(t, []int64{1001, 1002}, hubsOf(client.Portals()), "every portal, at once")
	status, _ := client.Do(http.MethodGet, "/api/v1/sources/"+te.init.ID+"/activity", nil)
	assert.Equal(t, http.StatusOK, status, "a viewer reads")
	status, body := client.Do(http.MethodPatch, "/api/v1/sources/"+te.init.ID, map[string]any{"name": "x"})
	assert.Equal(t, http.StatusForbidden, status, "a viewer changes nothing: %s", body)
	status, body = client.Do(http.MethodPatch, "/api/v1/sources/"+te.init.ID, map[string]any{"send": map[string]string{"referrers": "nothing"}})
	assert.Equal(t, http.StatusForbidden, status, "a viewer cannot stop a source sending: %s", body)
	status, _ = client.Do(http.MethodPost, "/api/v1/portals/1001/disconnect", nil)
	assert.Equal(t, http.StatusForbidden, status)
	status, _ = client.Do(http.MethodGet, "/api/v1/tokens", nil)
	assert.Equal(t, http.StatusForbidden, status, "a viewer has no API tokens")
	assert.Equal(t, http.StatusForbidden, byToken(http.MethodPost, "/api/v1/sources/"+te.acme.ID+"/rotate-url"), "their token is read-only too")
	assert.Equal(t, "connected", te.owner.Portals()[0].Status)

	te.owner.JSON(http.MethodPatch, member, map[string]any{"role": "admin", "portals": []int64{1002}}, http.StatusOK, &m)
	assert.Equal(t, []int64{1002}, hubsOf(client.Portals()))
	status, _ = client.Do(http.MethodPatch, "/api/v1/sources/"+te.init.ID, map[string]any{"name": "Initech (client)"})
	assert.Equal(t, http.StatusOK, status)
	status, body = client.Do(http.MethodPatch, "/api/v1/sources/"+te.init.ID, map[string]any{"hub_id": 1001})
	assert.Equal(t, http.StatusUnprocessableEntity, status, "nor can they send a source to a portal not theirs: %s", body)
	for _, bad := range []map[string]any{{"role": "owner", "portals": "all"}, {"role": "admin", "portals": "some"}, {"role": "admin", "portals": []int64{9999}}, {"role": "admin"}} {
		status, body = te.owner.Do(http.MethodPatch, member, bad)
		assert.Equal(t, http.StatusUnprocessableEntity, status, "%v: %s", bad, body)
	}
	status, _ = te.owner.Do(http.MethodPatch, "/api/v1/members/123456", map[string]any{"role": "admin", "portals": "all"})
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = te.owner.Do(http.MethodDelete, fmt.Sprintf("/api/v1/members/%d", ownerID), nil)
	assert.Equal(t, http.StatusUnprocessableEntity, status, "the owner stays")

	var removal struct {
		Revoked   []int64 `json:"revoked_grants"`
		Reconnect []int64 `json:"needs_reconnect"`
	}
	te.owner.JSON(http.MethodDelete, member, nil, http.StatusOK, &removal)
	assert.Equal(t, []int64{1001}, removal.Revoked)
	assert.Empty(t, removal.Reconnect, "the owner's grant still works")
	status, _ = client.Do(http.MethodGet, "/api/v1/portals", nil)
	assert.Equal(t, http.StatusUnauthorized, status, "their session ended")
	status, _ = apptest.Get(t, client, te.env.URL("/app/"))
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, http.StatusUnauthorized, byToken(http.MethodGet, "/api/v1/portals"), "their API token ended")
	assert.Len(t, te.members(t, te.owner), 1)

	after, err := te.env.App.Tokens().RefreshTokens(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, before, after, "their grant is gone, the owner's kept")
	hs := hubspot.New(hubspot.Config{APIBase: te.env.Sim.URL(), ClientID: "refhub-test", ClientSecret: "refhub-test-secret"})
	for _, rt := range te.env.Sim.IssuedTokens() {
		if !strings.HasPrefix(rt, "na1-") || rt == before[0] || rt == initech[0] {
			continue
		}
		_, err := hs.Refresh(ctx, rt)
		assert.True(t, hubspot.IsInvalidGrant(err), "the removed member's refresh token is revoked at HubSpot: %v", err)
	}
	_, err = hs.Refresh(ctx, before[0])
	assert.NoError(t, err, "the owner's works")

	// Signed in again (they still administer the portal in HubSpot), they
	// are a new member: the old session stays ended.
	old := client.Jar
	again := te.env.Install(1001, clientID)
	assert.Equal(t, []int64{1001}, hubsOf(again.Portals()))
	client.Jar = old
	status, _ = client.Do(http.MethodGet, "/api/v1/portals", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
}

// TestInstallerLeaves: with the installing user deactivated at HubSpot,
// signups keep being delivered through the second admin's grant, no lane
// parks and nothing is lost, and the owner is told whose access failed.
// Removing the second admin then asks the owner first (theirs is the last
// working grant). With every grant dead the lane parks as before, and a
// new install by another admin recovers it with every signup delivered.
func TestInstallerLeaves(t *testing.T) {
	te := startTeam(t, true)
	ctx := context.Background()
	env := te.env
	te.env.Install(1001, clientID)
	post := func(prefix string, n int) {
		for _, body := range apptest.Signups(prefix, n, "") {
			status, _ := apptest.Post(t, te.acme.WebhookURL, "application/json", body)
			require.Equal(t, http.StatusAccepted, status)
		}
	}
	post("before", 3)
	env.Drain(ctx)
	require.Len(t, env.Sim.Contacts(1001), 3)
	var p struct {
		Status        string `json:"status"`
		WorkingGrants int    `json:"working_grants"`
		Grants        []struct {
			UserID  int64  `json:"user_id"`
			Email   string `json:"email"`
			Working bool   `json:"working"`
			InUse   bool   `json:"in_use"`
			Reason  string `json:"reason"`
		} `json:"grants"`
	}
	te.owner.JSON(http.MethodGet, "/api/v1/portals/1001", nil, http.StatusOK, &p)
	require.Equal(t, 2, p.WorkingGrants)
	require.Len(t, p.Grants, 2)
	inUse := map[int64]bool{}
	for _, g := range p.Grants {
		inUse[g.UserID] = g.InUse
	}
	assert.True(t, inUse[ownerID], "the installer's grant is used; a second admin joining changes nothing that works")

	env.Sim.DeactivateUser(1001, ownerID)
	env.Clock.Advance(31 * time.Minute) // the access token expires: the next call refreshes
	post("after", 5)
	env.Drain(ctx)
	assert.Len(t, env.Sim.Contacts(1001), 8, "every signup delivered through the second admin's grant")
	for i := range 5 {
		_, ok := env.Sim.ContactByEmail(1001, fmt.Sprintf("after%d@example.com", i))
		assert.True(t, ok, "after%d", i)
	}
	te.owner.JSON(http.MethodGet, "/api/v1/portals/1001", nil, http.StatusOK, &p)
	assert.Equal(t, "connected", p.Status, "no lane parked, no reconnect asked")
	assert.Equal(t, 1, p.WorkingGrants)
	for _, g := range p.Grants {
		switch g.UserID {
		case ownerID:
			assert.False(t, g.Working)
			assert.Contains(t, g.Reason, "HubSpot refused the refresh token")
		case clientID:
			assert.True(t, g.Working)
			assert.True(t, g.InUse)
		}
	}
	parked, err := env.App.Queue().ParkedLanes(ctx)
	require.NoError(t, err)
	assert.Empty(t, parked)
	status, home := apptest.Get(t, te.owner, env.URL("/app/"))
	require.Equal(t, http.StatusOK, status)
	home = html.UnescapeString(home)
	assert.Contains(t, home, "owner@agency.test's HubSpot access to acme.hubspot.test stopped working")
	assert.Contains(t, home, "refhub now delivers with client@acme.test's access")
	assert.Contains(t, home, "Depends on client@acme.test alone")
	status, page := apptest.Get(t, te.owner, env.URL("/app/portals/1001"))
	require.Equal(t, http.StatusOK, status)
	page = html.UnescapeString(page)
	assert.Contains(t, page, "owner@agency.test's HubSpot access to acme.hubspot.test stopped working")
	assert.Contains(t, page, "client@acme.test: <strong>in use</strong>")
	assert.Contains(t, page, "owner@agency.test: <span class=\"warn-text\">stopped working</span>")

	// Removing the only person whose grant works asks first.
	member := fmt.Sprintf("/api/v1/members/%d", clientID)
	status, body := te.owner.Do(http.MethodDelete, member, nil)
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, string(body), "last working one for acme.hubspot.test (1001)")
	assert.Len(t, te.members(t, te.owner), 2, "nothing removed")

	// Every grant dead: the lane parks as before, nothing is lost.
	env.Sim.DeactivateUser(1001, clientID)
	env.Clock.Advance(31 * time.Minute)
	post("dead", 2)
	env.Drain(ctx)
	assert.Len(t, env.Sim.Contacts(1001), 8)
	te.owner.JSON(http.MethodGet, "/api/v1/portals/1001", nil, http.StatusOK, &p)
	assert.Equal(t, "needs_reconnect", p.Status)
	assert.Zero(t, p.WorkingGrants)
	parked, err = env.App.Queue().ParkedLanes(ctx)
	require.NoError(t, err)
	assert.Equal(t, []int64{1001}, parked)

	// Another admin of the portal installs: the lane recovers.
	env.Install(1001, thirdID)
	env.Drain(ctx)
	assert.Len(t, env.Sim.Contacts(1001), 10, "the parked signups are delivered")
	te.owner.JSON(http.MethodGet, "/api/v1/portals/1001", nil, http.StatusOK, &p)
	assert.Equal(t, "connected", p.Status)
	assert.Equal(t, 1, p.WorkingGrants)
}

// TestRemovingTheLastWorkingGrantAsksFirst: on the Members page, removing
// the member whose grant is the only one HubSpot still honours for a
// portal shows what it would stop and asks to confirm; confirmed, the
// member is gone, their grant revoked, and the portal needs reconnecting.
func TestRemovingTheLastWorkingGrantAsksFirst(t *testing.T) {
	te := startTeam(t, true)
	ctx := context.Background()
	te.env.Install(1001, clientID)
	te.env.Sim.DeactivateUser(1001, ownerID)
	te.env.Clock.Advance(31 * time.Minute)
	_, err := te.env.App.Tokens().AccessToken(ctx, 1001) // the owner's grant is refused: the client's is used
	require.NoError(t, err)

	form := url.Values{"csrf_token": {te.owner.CSRF()}}
	status, _, body := apptest.PostForm(t, te.owner, te.env.URL(fmt.Sprintf("/app/members/%d/remove", clientID)), form)
	assert.Equal(t, http.StatusConflict, status)
	body = html.UnescapeString(body)
	assert.Contains(t, body, "client@acme.test's HubSpot grant is the last working one for acme.hubspot.test (1001)")
	assert.Contains(t, body, "Remove client@acme.test anyway")
	assert.Len(t, te.members(t, te.owner), 2, "nothing removed before the owner confirms")
	assert.Equal(t, "connected", te.owner.Portals()[0].Status)

	form.Set("confirm", "yes")
	status, loc, _ := apptest.PostForm(t, te.owner, te.env.URL(fmt.Sprintf("/app/members/%d/remove", clientID)), form)
	assert.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "/app/members", loc)
	assert.Len(t, te.members(t, te.owner), 1)
	ps := te.owner.Portals()
	assert.Equal(t, "needs_reconnect", ps[0].Status)
	assert.Contains(t, ps[0].StatusReason, "client@acme.test was removed")
	assert.Equal(t, "connected", ps[1].Status, "the other portal is untouched")
	rts, err := te.env.App.Tokens().RefreshTokens(ctx, 1001)
	require.NoError(t, err)
	assert.Len(t, rts, 1, "only the owner's refused grant is left")
}
