package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// MaxAPIBody bounds JSON API request bodies.
const MaxAPIBody = 256 << 10

// apiRoutes registers the JSON API. Every handler authorizes the resource
// against the caller's workspace; another workspace's ids answer 404.
func (a *App) apiRoutes(g *gin.RouterGroup) {
	g.GET("/portals", a.apiPortals)
	g.POST("/portals/:hubId/sources", a.apiCreateSource)
	g.GET("/sources", a.apiSources)
	g.GET("/sources/:id", a.apiSource)
	g.PUT("/sources/:id/mapping", a.apiPutMapping)
	g.GET("/sources/:id/activity", a.apiActivity)
	g.GET("/sources/:id/dead-letters", a.apiDeadLetters)
	g.POST("/sources/:id/dead-letters/replay", a.apiReplay)
	g.POST("/sources/:id/secret", a.apiCreateSecret)
	g.DELETE("/sources/:id/secret", a.apiDeleteSecret)
	a.moreAPIRoutes(g)
}

// decodeJSON reads a bounded JSON body into v, refusing unknown fields.
func decodeJSON(c *gin.Context, v any) error {
	if ct := c.ContentType(); ct != "application/json" {
		return apperr.New(apperr.Unsupported, "send the body as application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, MaxAPIBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "the body is too large")
		}
		return &apperr.Error{Code: apperr.Invalid, Message: "the body is not the expected JSON: " + err.Error()}
	}
	return nil
}

type portalView struct {
	HubID        int64                `json:"hub_id"`
	Domain       string               `json:"domain"`
	Status       tenants.PortalStatus `json:"status"`
	StatusReason string               `json:"status_reason,omitempty"`
	InstalledBy  string               `json:"installed_by"`
	ConnectedAt  time.Time            `json:"connected_at"`
}

func viewPortal(p tenants.Portal) portalView {
	return portalView{HubID: p.HubID, Domain: p.Domain, Status: p.Status, StatusReason: p.StatusReason,
		InstalledBy: p.InstalledByEmail, ConnectedAt: p.ConnectedAt}
}

func (a *App) apiPortals(c *gin.Context) {
	ctx := c.Request.Context()
	ws := principal(c).WorkspaceID
	ps, err := a.store.Portals(ctx, ws)
	if err != nil {
		_ = c.Error(err)
		return
	}
	page, perPage, err := paging(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	kept := filterPortals(ps, c.Query("q"))
	shown, total := pageOf(kept, page, perPage), len(kept)
	srcs, err := a.store.Sources(ctx, ws)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := a.summarizePortals(ctx, shown, srcs)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"portals": out, "total": total, "page": page, "per_page": perPage})
}

// workspacePortal loads the :hubId portal of the caller's workspace.
func (a *App) workspacePortal(c *gin.Context) (tenants.Portal, error) {
	hub, err := strconv.ParseInt(c.Param("hubId"), 10, 64)
	if err != nil || hub <= 0 {
		return tenants.Portal{}, apperr.New(apperr.NotFound, "no such portal")
	}
	p, err := a.store.WorkspacePortal(c.Request.Context(), principal(c).WorkspaceID, hub)
	if errors.Is(err, tenants.ErrNotFound) {
		return p, apperr.New(apperr.NotFound, "no such portal")
	}
	return p, err
}

// workspaceSource loads the :id source of the caller's workspace.
func (a *App) workspaceSource(c *gin.Context) (tenants.Source, error) {
	src, err := a.store.WorkspaceSource(c.Request.Context(), principal(c).WorkspaceID, c.Param("id"))
	if errors.Is(err, tenants.ErrNotFound) {
		return src, apperr.New(apperr.NotFound, "no such source")
	}
	return src, err
}

type sourceView struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	HubID        int64           `json:"hub_id"`
	WebhookURL   string          `json:"webhook_url"`
	SecretHeader string          `json:"secret_header,omitempty"`
	HasSecret    bool            `json:"has_secret"`
	Mapping      tenants.Mapping `json:"mapping"`
	Routes       []tenants.Route `json:"routes"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// WebhookURL is the URL Referral Factory posts a source's signups to.
func (a *App) WebhookURL(src tenants.Source) string { return a.webhookURL(src) }

func (a *App) webhookURL(src tenants.Source) string {
	return strings.TrimRight(a.cfg.PublicURL, "/") + "/hooks/referral-factory/" + src.Token
}

func (a *App) viewSource(src tenants.Source) sourceView {
	v := sourceView{ID: src.ID, Name: src.Name, HubID: src.HubID, WebhookURL: a.webhookURL(src),
		HasSecret: src.Secret != "", Mapping: src.Mapping, Routes: src.Routes, CreatedAt: src.CreatedAt, UpdatedAt: src.UpdatedAt}
	if v.HasSecret {
		v.SecretHeader = src.SecretName
		if v.SecretHeader == "" {
			v.SecretHeader = DefaultSecretHeader
		}
	}
	if v.Mapping.Defaults == nil {
		v.Mapping.Defaults = map[string]string{}
	}
	return v
}

func (a *App) apiCreateSource(c *gin.Context) {
	p, err := a.workspacePortal(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	src, err := a.createSource(c, p, in.Name)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusCreated, a.viewSource(src))
}

func (a *App) createSource(c *gin.Context, p tenants.Portal, name string) (tenants.Source, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return tenants.Source{}, apperr.New(apperr.Unprocessable, "give the source a name of 1 to 100 characters")
	}
	src, err := a.store.CreateSource(c.Request.Context(), p.WorkspaceID, p.HubID, name)
	if err != nil {
		return src, err
	}
	return src, a.queue.Register(c.Request.Context(), p.HubID)
}

func (a *App) apiSources(c *gin.Context) {
	srcs, err := a.store.Sources(c.Request.Context(), principal(c).WorkspaceID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := make([]sourceView, len(srcs))
	for i, s := range srcs {
		out[i] = a.viewSource(s)
	}
	c.JSON(http.StatusOK, gin.H{"sources": out})
}

func (a *App) apiSource(c *gin.Context) {
	src, err := a.workspaceSource(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, a.viewSource(src))
}

func (a *App) apiPutMapping(c *gin.Context) {
	src, err := a.workspaceSource(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var m tenants.Mapping
	if err := decodeJSON(c, &m); err != nil {
		_ = c.Error(err)
		return
	}
	if m.OnExisting == "" {
		m.OnExisting = tenants.Update
	}
	if m.Defaults == nil {
		m.Defaults = map[string]string{}
	}
	if err := m.Validate(); err != nil {
		_ = c.Error(err)
		return
	}
	if err := a.saveMapping(c.Request.Context(), src, -1, m); err != nil {
		_ = c.Error(err)
		return
	}
	src.Mapping = m
	c.JSON(http.StatusOK, a.viewSource(src))
}

// eventView is an event as the API shows it: payload redacted, with a link
// to the contact in HubSpot once delivered.
type eventView struct {
	queue.Event
	Payload    []payload.Field `json:"payload"`
	ContactURL string          `json:"contact_url,omitempty"`
}

func (a *App) viewEvent(ev queue.Event) eventView {
	return eventView{Event: ev, Payload: redactFields(ev.Payload), ContactURL: a.contactURL(ev.HubID, ev.ContactID)}
}

func (a *App) viewEvents(evs []queue.Event) []eventView {
	out := make([]eventView, len(evs))
	for i, ev := range evs {
		out[i] = a.viewEvent(ev)
	}
	return out
}

func (a *App) apiActivity(c *gin.Context) {
	src, err := a.workspaceSource(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	f, err := activityFilter(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	evs, err := a.queue.Activity(c.Request.Context(), src.AllPortals(), src.ID, f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	a.explainWaiting(c.Request.Context(), evs)
	sum, err := a.sourceSummary(c.Request.Context(), src)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"events": a.viewEvents(evs), "summary": sum})
}

// maxPage bounds ?page=: far beyond any workspace's last page.
const maxPage = 1_000_000

// paging reads ?page= and ?per_page= (default 1 and 50, at most maxPage
// and 200).
func paging(c *gin.Context) (int, int, error) {
	page, err := intParam(c, "page", 1, 1, maxPage)
	if err != nil {
		return 0, 0, err
	}
	perPage, err := intParam(c, "per_page", 50, 1, 200)
	return page, perPage, err
}

// intParam reads a whole-number query parameter within [lo, hi], def when
// absent or empty; anything else is a 400 that says what is expected.
func intParam(c *gin.Context, name string, def, lo, hi int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, apperr.New(apperr.Invalid, fmt.Sprintf("%s must be a whole number from %d to %d", name, lo, hi))
	}
	return n, nil
}

func activityFilter(c *gin.Context) (queue.Filter, error) {
	f := queue.Filter{Status: queue.Status(c.Query("status")), Email: c.Query("email")}
	switch f.Status {
	case "", queue.Queued, queue.Delivered, queue.Failed, queue.Rejected:
	default:
		return f, apperr.New(apperr.Invalid, "status must be queued, delivered, failed or rejected")
	}
	var err error
	if f.Limit, err = intParam(c, "limit", 0, 1, 500); err != nil {
		return f, err
	}
	if v := c.Query("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return f, apperr.New(apperr.Invalid, "before must be an RFC 3339 time")
		}
		f.Before = t
	}
	return f, nil
}

func (a *App) apiDeadLetters(c *gin.Context) {
	src, err := a.workspaceSource(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	page, err := a.deadLetterPage(c, src)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"dead_letters": page.Events, "next": page.Next, "total": page.Total})
}

func (a *App) apiReplay(c *gin.Context) {
	src, err := a.workspaceSource(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var in struct {
		IDs []string `json:"ids"`
	}
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			_ = c.Error(err)
			return
		}
	}
	n, left, err := a.replay(c.Request.Context(), src, in.IDs)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"replayed": n, "remaining": left})
}

// apiCreateSecret gives a source a new shared secret, required from then on
// in a header of every webhook request. The secret is returned so the admin
// can add the header in Referral Factory.
func (a *App) apiCreateSecret(c *gin.Context) {
	src, err := a.workspaceSource(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var in struct {
		Header string `json:"header"`
	}
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			_ = c.Error(err)
			return
		}
	}
	if src, err = a.setSourceSecret(c.Request.Context(), src, in.Header); err != nil {
		_ = c.Error(err)
		return
	}
	v := a.viewSource(src)
	c.JSON(http.StatusOK, gin.H{"header": v.SecretHeader, "secret": src.Secret})
}

func (a *App) apiDeleteSecret(c *gin.Context) {
	src, err := a.workspaceSource(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if src, err = a.removeSourceSecret(c.Request.Context(), src); err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, a.viewSource(src))
}

// validHeaderName accepts an HTTP header name (letters, digits, -), or empty
// for the default.
func validHeaderName(h string) error {
	if len(h) > 64 {
		return apperr.New(apperr.Unprocessable, "the header name is longer than 64 characters")
	}
	for _, r := range h {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return apperr.New(apperr.Unprocessable, "a header name has only letters, digits and dashes, e.g. X-Refhub-Secret")
		}
	}
	return nil
}

// explainWaiting tells why queued events that were not attempted yet are
// waiting: their portal's lane is retrying after failures, or parked until
// the portal is reconnected.
func (a *App) explainWaiting(ctx context.Context, evs []queue.Event) {
	states := map[int64]string{}
	for i, ev := range evs {
		if ev.Status != queue.Queued || ev.Reason != "" {
			continue
		}
		why, seen := states[ev.HubID]
		if !seen {
			why = a.laneExplanation(ctx, ev.HubID)
			states[ev.HubID] = why
		}
		evs[i].Reason = why
	}
}

func (a *App) laneExplanation(ctx context.Context, hub int64) string {
	if p, err := a.store.Portal(ctx, hub); err == nil && p.Status != tenants.Connected {
		return "Waiting for the portal to be reconnected: " + p.StatusReason
	}
	rs, err := a.queue.Retry(ctx, hub)
	if err != nil || rs.Attempts == 0 {
		return ""
	}
	return fmt.Sprintf("Waiting: delivery to this portal is failing and being retried (%d attempts since %s). Last error: %s",
		rs.Attempts, rs.FirstFailure.UTC().Format(time.RFC3339), rs.LastError)
}
