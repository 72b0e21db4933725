// Package web is how refhub's HTTP handlers are written: a handler returns
// an error (Handler), adapted at registration by Handle, which records the
// error for the error middleware (the one place that does); a handler that
// acts on a portal or source gets it loaded and authorized at registration
// (Loader); and the query parameters the API and the pages share are read
// here.
package web

import (
	"context"
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
// the caller's workspace: another workspace's ids answer 404 before the
// handler runs.
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
		p, err := l.ws.Portal(c.Request.Context(), auth.PrincipalOf(c).WorkspaceID, hub)
		if err != nil {
			return err
		}
		return h(c, p)
	})
}

// Source runs h with the :id source.
func (l Loader) Source(h func(*gin.Context, tenants.Source) error) gin.HandlerFunc {
	return Handle(func(c *gin.Context) error {
		src, err := l.ws.Source(c.Request.Context(), auth.PrincipalOf(c).WorkspaceID, c.Param("id"))
		if err != nil {
			return err
		}
		return h(c, src)
	})
}
