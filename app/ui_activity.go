package app

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// activityPerPage is how many events the activity page lists at once.
const activityPerPage = 50

// activityView is one page of a source's activity.
type activityView struct {
	Ctx      sourceCtx
	Events   []eventView
	Status   string
	Email    string
	Statuses []queue.Status
	Paged    bool   // showing older events (before=)
	NextURL  string // older events
}

func (a *App) uiActivity(c *gin.Context, src tenants.Source) {
	ctx := c.Request.Context()
	f, err := activityFilter(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if f.Limit == 0 {
		f.Limit = activityPerPage
	}
	evs, err := a.queue.Activity(ctx, src.AllPortals(), src.ID, f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	a.explainWaiting(ctx, evs)
	sc, err := a.sourceContext(ctx, src, "activity")
	if err != nil {
		_ = c.Error(err)
		return
	}
	v := activityView{Ctx: sc, Events: a.viewEvents(evs), Status: string(f.Status), Email: f.Email,
		Statuses: []queue.Status{queue.Queued, queue.Delivered, queue.Failed, queue.Rejected}, Paged: !f.Before.IsZero()}
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
	a.renderSourcePage(c, http.StatusOK, "activity.html", "Activity", sc, v)
}

// eventPageView is one event in full: the result page of a test signup,
// and the detail page of an activity entry.
type eventPageView struct {
	Ctx     sourceCtx
	Event   eventView
	Pending bool   // queued: the page checks again until it is not
	APIURL  string // what the page's script polls
}

func (a *App) uiEvent(c *gin.Context, src tenants.Source) {
	ctx := c.Request.Context()
	ev, err := a.findEvent(ctx, src, c.Param("eventId"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	evs := []queue.Event{ev}
	a.explainWaiting(ctx, evs)
	sc, err := a.sourceContext(ctx, src, "activity")
	if err != nil {
		_ = c.Error(err)
		return
	}
	v := eventPageView{Ctx: sc, Event: a.viewEvent(evs[0]), Pending: ev.Status == queue.Queued,
		APIURL: "/api/v1/sources/" + url.PathEscape(src.ID) + "/events/" + url.PathEscape(ev.ID)}
	title := "Signup"
	if ev.Test {
		title = "Test signup"
	}
	a.renderSourcePage(c, http.StatusOK, "event.html", title, sc, v)
}

func (a *App) uiRetry(c *gin.Context, src tenants.Source) {
	id := c.Param("eventId")
	ev, err := a.retryEvent(c.Request.Context(), src, id)
	if err != nil {
		a.redirectError(c, sourceURL(src.ID, "events/"+id), err)
		return
	}
	a.redirectFlash(c, sourceURL(src.ID, "events/"+ev.ID), "Sent again with the current mapping. This page shows the outcome.", false)
}

// deadLettersView is one page of a source's dead letters.
type deadLettersView struct {
	Ctx        sourceCtx
	Events     []eventView
	Total      int64
	Paged      bool   // not the first page
	NextURL    string // the page after this one
	FirstURL   string
	MaxReplay  int
	ReplayRest bool // Replay all queues the oldest MaxReplay only
}

func (a *App) uiDeadLetters(c *gin.Context, src tenants.Source) {
	ctx := c.Request.Context()
	page, err := a.deadLetterPage(c, src)
	if err != nil {
		_ = c.Error(err)
		return
	}
	sc, err := a.sourceContext(ctx, src, "dead-letters")
	if err != nil {
		_ = c.Error(err)
		return
	}
	v := deadLettersView{Ctx: sc, Events: page.Events, Total: page.Total, Paged: c.Query("after") != "",
		FirstURL: sourceURL(src.ID, "dead-letters"), MaxReplay: queue.MaxReplay, ReplayRest: page.Total > queue.MaxReplay}
	if page.Next != "" {
		v.NextURL = sourceURL(src.ID, "dead-letters") + "?" + url.Values{"after": {page.Next}}.Encode()
	}
	a.renderSourcePage(c, http.StatusOK, "deadletters.html", "Dead letters", sc, v)
}

func (a *App) uiReplay(c *gin.Context, src tenants.Source) {
	n, left, err := a.replay(c.Request.Context(), src, c.PostFormArray("id"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	if n == 0 {
		a.redirectFlash(c, sourceURL(src.ID, "dead-letters"), "Nothing to replay: the dead letters were already replayed.", false)
		return
	}
	msg := fmt.Sprintf("%d signups are queued again with the current mapping: they show as delivered below once HubSpot accepts them.", n)
	if n == 1 {
		msg = "1 signup is queued again with the current mapping: it shows as delivered below once HubSpot accepts it."
	}
	if left > 0 {
		msg += fmt.Sprintf(" %d dead letters remain: replay again once these are through.", left)
	}
	a.redirectFlash(c, sourceURL(src.ID, "activity"), msg, false)
}
