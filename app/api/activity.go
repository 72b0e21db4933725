package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/web"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/tenants"
)

// Activity lists the source's events (filtered) with its summary.
func (h *Handlers) Activity(c *gin.Context, src tenants.Source) error {
	f, err := web.ActivityFilter(c)
	if err != nil {
		return err
	}
	evs, err := h.ws.Events.Activity(c.Request.Context(), src, f)
	if err != nil {
		return err
	}
	sum, err := h.ws.Sources.Summary(c.Request.Context(), src)
	return reply(c, http.StatusOK, gin.H{"events": evs, "summary": sum}, err)
}

// Event shows one of the source's events.
func (h *Handlers) Event(c *gin.Context, src tenants.Source) error {
	ev, err := h.ws.Events.Explained(c.Request.Context(), src, c.Param("eventId"))
	return reply(c, http.StatusOK, h.ws.Events.View(ev), err)
}

// Retry sends one failed or refused event again.
func (h *Handlers) Retry(c *gin.Context, src tenants.Source) error {
	ev, err := h.ws.Events.Retry(c.Request.Context(), src, c.Param("eventId"))
	return reply(c, http.StatusAccepted, h.ws.Events.View(ev), err)
}

// DeadLetters lists one page of the source's dead letters.
func (h *Handlers) DeadLetters(c *gin.Context, src tenants.Source) error {
	q, err := web.DeadPage(c)
	if err != nil {
		return err
	}
	page, err := h.ws.Events.DeadLetters(c.Request.Context(), src, q)
	return reply(c, http.StatusOK, gin.H{"dead_letters": page.Events, "next": page.Next, "total": page.Total}, err)
}

// Replay queues the source's dead letters again (those named, or the
// oldest).
func (h *Handlers) Replay(c *gin.Context, src tenants.Source) error {
	var in struct {
		IDs []string `json:"ids"`
	}
	if err := decodeOptionalJSON(c, &in); err != nil {
		return err
	}
	n, left, err := h.ws.Events.Replay(c.Request.Context(), src, in.IDs)
	return reply(c, http.StatusOK, gin.H{"replayed": n, "remaining": left}, err)
}

// LastPayload shows the fields of the last signup Referral Factory sent.
func (h *Handlers) LastPayload(c *gin.Context, src tenants.Source) error {
	ev, err := h.ws.Events.LastPayload(c.Request.Context(), src)
	if err != nil || ev == nil {
		return reply(c, http.StatusOK, gin.H{"received_at": nil, "fields": []any{}}, err)
	}
	return reply(c, http.StatusOK, gin.H{"received_at": ev.ReceivedAt, "fields": workspace.RedactFields(ev.Payload)}, nil)
}

// TestSignup sends a test signup through the real pipeline, as the
// caller's address (or the one given) plus "+rf-test-N".
func (h *Handlers) TestSignup(c *gin.Context, src tenants.Source) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeOptionalJSON(c, &in); err != nil {
		return err
	}
	if in.Email == "" {
		in.Email = auth.PrincipalOf(c).Email
	}
	ev, err := h.ws.Sources.TestSignup(c.Request.Context(), src, in.Email)
	return reply(c, http.StatusAccepted, testSignupView{EventView: h.ws.Events.View(ev), Note: workspace.NotSentNote(src, ev)}, err)
}

// testSignupView is a test signup just queued, with a note when its
// source sends nothing to HubSpot for its kind.
type testSignupView struct {
	workspace.EventView
	Note string `json:"note,omitempty"`
}
