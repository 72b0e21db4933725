package tenants_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/tenants"
)

// newSourceEnv installs portal 101 for user 1 and creates one source.
func newSourceEnv(t *testing.T) (*env, tenants.Workspace, tenants.Source) {
	t.Helper()
	e := newEnv(t)
	ws, _, err := e.store.Install(context.Background(), install(101, 1))
	require.NoError(t, err)
	src, err := e.store.CreateSource(context.Background(), ws.ID, 101, "Spring campaign")
	require.NoError(t, err)
	return e, ws, src
}

func TestCreateSource(t *testing.T) {
	e, ws, src := newSourceEnv(t)
	ctx := context.Background()

	assert.True(t, strings.HasPrefix(src.ID, "src_"), src.ID)
	assert.Equal(t, ws.ID, src.WorkspaceID)
	assert.Equal(t, "Spring campaign", src.Name)
	assert.Equal(t, int64(101), src.HubID)
	assert.Equal(t, tenants.DefaultMapping(), src.Mapping)
	assert.NotNil(t, src.Routes)
	assert.Empty(t, src.Routes)
	assert.Equal(t, e.clock.Now(), src.CreatedAt)

	raw, err := base64.RawURLEncoding.DecodeString(src.Token)
	require.NoError(t, err, "the token is URL-safe")
	assert.GreaterOrEqual(t, len(raw)*8, 128, "the webhook token carries at least 128 random bits")

	got, err := e.store.Source(ctx, src.ID)
	require.NoError(t, err)
	assert.Equal(t, src, got)
	byToken, err := e.store.SourceByToken(ctx, src.Token)
	require.NoError(t, err)
	assert.Equal(t, src, byToken)

	asJSON, err := json.Marshal(src)
	require.NoError(t, err)
	assert.NotContains(t, string(asJSON), src.Token, "the token is never serialized with the source")
	assertNotStored(t, e.rdb, src.Token)

	other, err := e.store.CreateSource(ctx, ws.ID, 101, "Other")
	require.NoError(t, err)
	assert.NotEqual(t, src.Token, other.Token)
}

func TestSources(t *testing.T) {
	e, ws, first := newSourceEnv(t)
	ctx := context.Background()
	e.clock.Advance(time.Second)
	second, err := e.store.CreateSource(ctx, ws.ID, 101, "Second")
	require.NoError(t, err)
	e.clock.Advance(time.Second)
	third, err := e.store.CreateSource(ctx, ws.ID, 101, "Third")
	require.NoError(t, err)
	wsB, _, err := e.store.Install(ctx, install(202, 2))
	require.NoError(t, err)
	_, err = e.store.CreateSource(ctx, wsB.ID, 202, "Theirs")
	require.NoError(t, err)

	list, err := e.store.Sources(ctx, ws.ID)
	require.NoError(t, err)
	assert.Equal(t, []tenants.Source{first, second, third}, list, "all of them, oldest first, only this workspace's")

	empty, err := e.store.Sources(ctx, "ws_none")
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func TestSaveSource(t *testing.T) {
	e, ws, src := newSourceEnv(t)
	ctx := context.Background()
	e.clock.Advance(time.Hour)

	edit := src
	edit.Name = "Renamed"
	edit.Mapping = validMapping()
	edit.Routes = []tenants.Route{{CampaignID: "c1", HubID: 101, Mapping: validMapping()}}
	edit.SecretName = "  X-RF-Secret  "
	edit.Secret = "s3cr3t-value-for-the-header"
	edit.Token = "attacker-chosen"
	edit.WorkspaceID = "ws_other"
	edit.CreatedAt = time.Time{}

	saved, err := e.store.SaveSource(ctx, edit)
	require.NoError(t, err)
	assert.Equal(t, src.Token, saved.Token, "the token cannot change through SaveSource")
	assert.Equal(t, ws.ID, saved.WorkspaceID)
	assert.Equal(t, src.CreatedAt, saved.CreatedAt)
	assert.Equal(t, e.clock.Now(), saved.UpdatedAt)
	assert.Equal(t, "X-RF-Secret", saved.SecretName)

	got, err := e.store.Source(ctx, src.ID)
	require.NoError(t, err)
	assert.Equal(t, saved, got)
	assert.Equal(t, "Renamed", got.Name)
	assert.Equal(t, "s3cr3t-value-for-the-header", got.Secret)
	assert.Len(t, got.Routes, 1)

	byToken, err := e.store.SourceByToken(ctx, src.Token)
	require.NoError(t, err, "the webhook URL keeps working")
	assert.Equal(t, src.ID, byToken.ID)
	_, err = e.store.SourceByToken(ctx, "attacker-chosen")
	assert.ErrorIs(t, err, tenants.ErrNotFound)

	assertNotStored(t, e.rdb, src.Token)
	assertNotStored(t, e.rdb, "s3cr3t-value-for-the-header")

	t.Run("clearing the secret", func(t *testing.T) {
		got.Secret = ""
		cleared, err := e.store.SaveSource(ctx, got)
		require.NoError(t, err)
		reread, err := e.store.Source(ctx, cleared.ID)
		require.NoError(t, err)
		assert.Empty(t, reread.Secret)
	})
}

func TestRotateSourceToken(t *testing.T) {
	e, _, src := newSourceEnv(t)
	ctx := context.Background()
	e.clock.Advance(time.Minute)

	rotated, err := e.store.RotateSourceToken(ctx, src)
	require.NoError(t, err)
	assert.NotEqual(t, src.Token, rotated.Token)
	assert.Equal(t, e.clock.Now(), rotated.UpdatedAt)

	_, err = e.store.SourceByToken(ctx, src.Token)
	assert.ErrorIs(t, err, tenants.ErrNotFound, "the old webhook URL stops working at once")
	got, err := e.store.SourceByToken(ctx, rotated.Token)
	require.NoError(t, err)
	assert.Equal(t, src.ID, got.ID)
	assert.Equal(t, rotated.Token, got.Token)

	reread, err := e.store.Source(ctx, src.ID)
	require.NoError(t, err)
	assert.Equal(t, rotated.Token, reread.Token)
	assertNotStored(t, e.rdb, rotated.Token)
}

func TestDeleteSource(t *testing.T) {
	e, ws, src := newSourceEnv(t)
	ctx := context.Background()
	keep, err := e.store.CreateSource(ctx, ws.ID, 101, "Keep")
	require.NoError(t, err)

	require.NoError(t, e.store.DeleteSource(ctx, src))
	_, err = e.store.Source(ctx, src.ID)
	assert.ErrorIs(t, err, tenants.ErrNotFound)
	_, err = e.store.SourceByToken(ctx, src.Token)
	assert.ErrorIs(t, err, tenants.ErrNotFound)
	list, err := e.store.Sources(ctx, ws.ID)
	require.NoError(t, err)
	assert.Equal(t, []tenants.Source{keep}, list)
}

func TestSourceChangesAnnounced(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := e.rdb.Subscribe(ctx, tenants.SourcesChannel)
	t.Cleanup(func() { _ = sub.Close() })
	_, err := sub.Receive(ctx) // subscription confirmed
	require.NoError(t, err)
	msgs := sub.Channel()
	next := func() string {
		t.Helper()
		select {
		case m := <-msgs:
			return m.Payload
		case <-time.After(5 * time.Second):
			t.Fatal("no announcement on " + tenants.SourcesChannel)
			return ""
		}
	}

	ws, _, err := e.store.Install(ctx, install(101, 1))
	require.NoError(t, err)
	src, err := e.store.CreateSource(ctx, ws.ID, 101, "A")
	require.NoError(t, err)
	assert.Equal(t, src.ID, next(), "create")
	_, err = e.store.SaveSource(ctx, src)
	require.NoError(t, err)
	assert.Equal(t, src.ID, next(), "save")
	src, err = e.store.RotateSourceToken(ctx, src)
	require.NoError(t, err)
	assert.Equal(t, src.ID, next(), "rotate")
	require.NoError(t, e.store.DeleteSource(ctx, src))
	assert.Equal(t, src.ID, next(), "delete")
}

func TestSealedTokenBoundToItsSource(t *testing.T) {
	e, ws, a := newSourceEnv(t)
	ctx := context.Background()
	b, err := e.store.CreateSource(ctx, ws.ID, 101, "B")
	require.NoError(t, err)

	// Copy A's sealed token into B's record: it must not open as B's.
	var recA, recB map[string]any
	require.NoError(t, json.Unmarshal([]byte(e.rdb.Get(ctx, "{s:"+a.ID+"}").Val()), &recA))
	require.NoError(t, json.Unmarshal([]byte(e.rdb.Get(ctx, "{s:"+b.ID+"}").Val()), &recB))
	recB["token_sealed"] = recA["token_sealed"]
	raw, err := json.Marshal(recB)
	require.NoError(t, err)
	require.NoError(t, e.rdb.Set(ctx, "{s:"+b.ID+"}", raw, 0).Err())

	_, err = e.store.Source(ctx, b.ID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "webhook token")
	assert.NotErrorIs(t, err, redis.Nil)
}

func TestSaveSourceRemembersPastPortals(t *testing.T) {
	e, _, src := newSourceEnv(t)
	ctx := context.Background()
	steps := []struct {
		name   string
		hub    int64
		routes []int64
		past   []int64
		all    []int64
	}{
		{name: "unchanged", hub: 101, past: nil, all: []int64{101}},
		{name: "moved to another portal", hub: 202, past: []int64{101}, all: []int64{202, 101}},
		{name: "routed back to the first portal", hub: 202, routes: []int64{101}, past: nil, all: []int64{202, 101}},
		{name: "route dropped and moved again", hub: 303, past: []int64{202, 101}, all: []int64{303, 202, 101}},
		{name: "back to a past portal", hub: 101, past: []int64{303, 202}, all: []int64{101, 303, 202}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			cur, err := e.store.Source(ctx, src.ID)
			require.NoError(t, err)
			cur.HubID = step.hub
			cur.Routes = []tenants.Route{}
			for i, h := range step.routes {
				cur.Routes = append(cur.Routes, tenants.Route{CampaignID: "c" + itoa(int64(i)), HubID: h, Mapping: validMapping()})
			}
			saved, err := e.store.SaveSource(ctx, cur)
			require.NoError(t, err)
			assert.Equal(t, step.past, saved.PastHubIDs)
			assert.Equal(t, step.all, saved.AllPortals())
			reread, err := e.store.Source(ctx, src.ID)
			require.NoError(t, err)
			assert.Equal(t, step.past, reread.PastHubIDs)
		})
	}
}
