package pages_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/internal/apptest"
)

// deadLetter stores n dead letters for a source on hub, as delivery
// leaves them.
func deadLetter(t *testing.T, env *apptest.Env, hub int64, srcID string, n int) {
	t.Helper()
	now := time.Now().UTC()
	var updates []queue.Update
	for i := range n {
		email := fmt.Sprintf("dead%d@example.com", i)
		updates = append(updates, queue.Update{Event: queue.Event{ID: queue.NewEventID(now), SourceID: srcID, HubID: hub,
			Route: "default", Email: email, Status: queue.Failed, ReceivedAt: now, UpdatedAt: now, FirstFailure: &now,
			Reason: "Invalid email", Payload: []payload.Field{{Path: "email", Value: email}}}})
	}
	require.NoError(t, env.App.Queue().Finish(context.Background(), hub, updates))
}

// TestDeadLettersAreReadInPages: the API and the page show dead letters a
// page at a time with a link or cursor to the next, and the total; a bad
// cursor is a 400.
func TestDeadLettersAreReadInPages(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	deadLetter(t, env, 1001, src.ID, 120)

	var page struct {
		DeadLetters []apptest.Event `json:"dead_letters"`
		Next        string          `json:"next"`
		Total       int64           `json:"total"`
	}
	b.JSON(http.MethodGet, "/api/v1/sources/"+src.ID+"/dead-letters?limit=100", nil, http.StatusOK, &page)
	assert.Len(t, page.DeadLetters, 100)
	assert.Equal(t, int64(120), page.Total)
	require.NotEmpty(t, page.Next)
	b.JSON(http.MethodGet, "/api/v1/sources/"+src.ID+"/dead-letters?limit=100&after="+url.QueryEscape(page.Next), nil, http.StatusOK, &page)
	assert.Len(t, page.DeadLetters, 20)
	assert.Empty(t, page.Next)
	assert.Len(t, b.DeadLetters(src.ID), 120, "following the cursors reads each once")

	status, body := b.Do(http.MethodGet, "/api/v1/sources/"+src.ID+"/dead-letters?after=nonsense", nil)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, string(body), "after must be the next cursor")
	status, _ = b.Do(http.MethodGet, "/api/v1/sources/"+src.ID+"/dead-letters?limit=501", nil)
	assert.Equal(t, http.StatusBadRequest, status)

	_, html := apptest.Get(t, b, env.URL("/app/sources/"+src.ID+"/dead-letters"))
	assert.Contains(t, html, "Replay all (120)")
	assert.Contains(t, html, `id="next-dead"`)
	assert.Equal(t, queue.DefaultDeadPage, strings.Count(html, `class="card dead"`))

	var replayed struct{ Replayed, Remaining int }
	b.JSON(http.MethodPost, "/api/v1/sources/"+src.ID+"/dead-letters/replay", nil, http.StatusOK, &replayed)
	assert.Equal(t, 120, replayed.Replayed)
	assert.Zero(t, replayed.Remaining)
}

// TestWorkspaceCapsAnswerClearly: past the cap of sources or API tokens, a
// creation is refused with 422 naming the limit and the way out, in the
// API and on the pages.
func TestWorkspaceCapsAnswerClearly(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Configure: func(c *app.Config) { c.Limits.Sources, c.Limits.APITokens = 2, 1 }})
	b := env.Install(1001, 501)
	b.CreateSource(1001, "One")
	b.CreateSource(1001, "Two")
	status, body := b.Do(http.MethodPost, "/api/v1/portals/1001/sources", map[string]string{"name": "Three"})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, string(body), "the workspace has 2 sources, the most it may have (REFHUB_MAX_SOURCES)")
	status, _, html := apptest.PostForm(t, b, env.URL("/app/portals/1001/sources"), url.Values{"name": {"Three"}, "csrf_token": {b.CSRF()}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, html, "REFHUB_MAX_SOURCES")

	b.JSON(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "ci"}, http.StatusCreated, nil)
	status, body = b.Do(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "another"})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, string(body), "REFHUB_MAX_API_TOKENS")
	status, _, html = apptest.PostForm(t, b, env.URL("/app/tokens"), url.Values{"name": {"another"}, "csrf_token": {b.CSRF()}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, html, "1 API tokens, the most it may have")
}
