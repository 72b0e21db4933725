package pages

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/web"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/tenants"
)

// activityPerPage is how many events the activity page lists at once.
const activityPerPage = 50

// activityView is one page of a source's activity.
type activityView struct {
	Ctx      sourceCtx
	Events   []workspace.EventView
	Status   string
	Email    string
	Statuses []queue.Status
	Paged    bool   // showing older events (before=)
	NextURL  string // older events
}

// Activity is one page of a source's activity, filtered.
func (h *Pages) Activity(c *gin.Context, src tenants.Source) error {
	ctx := c.Request.Context()
	f, err := web.ActivityFilter(c)
	if err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = activityPerPage
	}
	evs, err := h.ws.Events.Activity(ctx, src, f)
	if err != nil {
		return err
	}
	sc, err := h.sourceContext(ctx, src, "activity")
	if err != nil {
		return err
	}
	v := activityView{Ctx: sc, Events: evs, Status: string(f.Status), Email: f.Email,
		Statuses: []queue.Status{queue.Queued, queue.Delivered, queue.NotSent, queue.Failed, queue.Rejected}, Paged: !f.Before.IsZero()}
	if len(evs) == f.Limit {
		q := url.Values{"before": {evs[len(evs)-1].ReceivedAt.UTC().Format(time.RFC3339Nano)}}
		if f.Status != "" {
			q.Set("status", string(f.Status))
		}
		if f.Email != "" {
			q.Set("email", f.Email)
		}
		v.NextURL = sourceURL(src.ID, "activity") + "?" + q.Encode()
	}
	h.renderSourcePage(c, http.StatusOK, "activity.html", "Activity", sc, v)
	return nil
}

// eventPageView is one event in full: the result page of a test signup,
// and the detail page of an activity entry.
type eventPageView struct {
	Ctx     sourceCtx
	Event   workspace.EventView
	Pending bool   // queued: the page checks again until it is not
	APIURL  string // what the page's script polls
}

// Event is one event in full.
func (h *Pages) Event(c *gin.Context, src tenants.Source) error {
	ctx := c.Request.Context()
	ev, err := h.ws.Events.Explained(ctx, src, c.Param("eventId"))
	if err != nil {
		return err
	}
	sc, err := h.sourceContext(ctx, src, "activity")
	if err != nil {
		return err
	}
	v := eventPageView{Ctx: sc, Event: h.ws.Events.View(ev), Pending: ev.Status == queue.Queued,
		APIURL: "/api/v1/sources/" + url.PathEscape(src.ID) + "/events/" + url.PathEscape(ev.ID)}
	title := "Signup"
	if ev.Test {
		title = "Test signup"
	}
	h.renderSourcePage(c, http.StatusOK, "event.html", title, sc, v)
	return nil
}

// Retry sends one failed or refused signup again.
func (h *Pages) Retry(c *gin.Context, src tenants.Source) error {
	id := c.Param("eventId")
	ev, err := h.ws.Events.Retry(c.Request.Context(), src, id)
	if err != nil {
		return h.redirectError(c, sourceURL(src.ID, "events/"+id), err)
	}
	return h.redirectFlash(c, sourceURL(src.ID, "events/"+ev.ID), "Sent again with the current mapping. This page shows the outcome.", false)
}

// deadLettersView is one page of a source's dead letters.
type deadLettersView struct {
	Ctx        sourceCtx
	Events     []workspace.EventView
	Total      int64
	Paged      bool   // not the first page
	NextURL    string // the page after this one
	FirstURL   string
	MaxReplay  int
	ReplayRest bool // Replay all queues the oldest MaxReplay only
}

// DeadLetters is one page of a source's dead letters.
func (h *Pages) DeadLetters(c *gin.Context, src tenants.Source) error {
	ctx := c.Request.Context()
	q, err := web.DeadPage(c)
	if err != nil {
		return err
	}
	page, err := h.ws.Events.DeadLetters(ctx, src, q)
	if err != nil {
		return err
	}
	sc, err := h.sourceContext(ctx, src, "dead-letters")
	if err != nil {
		return err
	}
	v := deadLettersView{Ctx: sc, Events: page.Events, Total: page.Total, Paged: c.Query("after") != "",
		FirstURL: sourceURL(src.ID, "dead-letters"), MaxReplay: queue.MaxReplay, ReplayRest: page.Total > queue.MaxReplay}
	if page.Next != "" {
		v.NextURL = sourceURL(src.ID, "dead-letters") + "?" + url.Values{"after": {page.Next}}.Encode()
	}
	h.renderSourcePage(c, http.StatusOK, "deadletters.html", "Dead letters", sc, v)
	return nil
}

// Replay queues the chosen dead letters (or the oldest) again.
func (h *Pages) Replay(c *gin.Context, src tenants.Source) error {
	n, left, err := h.ws.Events.Replay(c.Request.Context(), src, c.PostFormArray("id"))
	if err != nil {
		return err
	}
	if n == 0 {
		return h.redirectFlash(c, sourceURL(src.ID, "dead-letters"), "Nothing to replay: the dead letters were already replayed.", false)
	}
	msg := fmt.Sprintf("%d signups are queued again with the current mapping: they show as delivered below once HubSpot accepts them.", n)
	if n == 1 {
		msg = "1 signup is queued again with the current mapping: it shows as delivered below once HubSpot accepts it."
	}
	if left > 0 {
		msg += fmt.Sprintf(" %d dead letters remain: replay again once these are through.", left)
	}
	return h.redirectFlash(c, sourceURL(src.ID, "activity"), msg, false)
}
