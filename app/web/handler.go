// Package web is how refhub's HTTP handlers are written: a handler returns
// an error (Handler), adapted at registration by Handle, which records the
// error for the error middleware (the one place that does); a handler that
// acts on a portal or source gets it loaded and authorized at registration
// (Loader); and the query parameters the API and the pages share are read
// here.
package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/tenants"
)

// Handler serves a request, or returns why it could not.
type Handler func(*gin.Context) error

// Handle adapts h for gin: an error h returns is recorded for the error
// middleware, which answers it (JSON or an error page).
func Handle(h Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			_ = c.Error(err)
		}
	}
}

// Workspaces loads a workspace's portals and sources, answering
// apperr.NotFound for another workspace's.
type Workspaces interface {
	Portal(ctx context.Context, wsID string, hub int64) (tenants.Portal, error)
	Source(ctx context.Context, wsID, id string) (tenants.Source, error)
}

// Loader runs handlers with the resource their route names, loaded from
// the caller's workspace and authorized for the calling member: another
// workspace's ids, and a portal or source the member was not granted,
// answer 404 before the handler runs; a change (any method but GET and
// HEAD) by a member who may only read answers 403.
type Loader struct{ ws Workspaces }

// NewLoader returns a loader reading from ws.
func NewLoader(ws Workspaces) Loader { return Loader{ws: ws} }

// Portal runs h with the :hubId portal.
func (l Loader) Portal(h func(*gin.Context, tenants.Portal) error) gin.HandlerFunc {
	return Handle(func(c *gin.Context) error {
		hub, err := strconv.ParseInt(c.Param("hubId"), 10, 64)
		if err != nil || hub <= 0 {
			return apperr.New(apperr.NotFound, "no such portal")
		}
		who := auth.PrincipalOf(c)
		p, err := l.ws.Portal(c.Request.Context(), who.WorkspaceID, hub)
		if err != nil {
			return err
		}
		if !who.Member.Sees(p.HubID) {
			return apperr.New(apperr.NotFound, "no such portal")
		}
		if changes(c) && !who.Member.Writes(p.HubID) {
			return auth.ReadOnly()
		}
		return h(c, p)
	})
}

// Source runs h with the :id source.
func (l Loader) Source(h func(*gin.Context, tenants.Source) error) gin.HandlerFunc {
	return Handle(func(c *gin.Context) error {
		who := auth.PrincipalOf(c)
		src, err := l.ws.Source(c.Request.Context(), who.WorkspaceID, c.Param("id"))
		if err != nil {
			return err
		}
		if !who.Member.SeesSource(src) {
			return apperr.New(apperr.NotFound, "no such source")
		}
		if changes(c) && !who.Member.WritesSource(src) {
			return auth.ReadOnly()
		}
		return h(c, src)
	})
}

// changes reports whether a request may change something: every method
// but GET and HEAD.
func changes(c *gin.Context) bool {
	return c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead
}
