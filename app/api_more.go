package app

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// moreAPIRoutes registers the settings-app API beyond the core set.
func (a *App) moreAPIRoutes(g *gin.RouterGroup) {
	g.GET("/portals/:hubId", a.apiPortal)
	g.POST("/portals/:hubId/disconnect", a.apiDisconnect)
	g.DELETE("/portals/:hubId", a.apiDeletePortal)
	g.GET("/portals/:hubId/properties", a.apiProperties)
	g.PATCH("/sources/:id", a.apiPatchSource)
	g.DELETE("/sources/:id", a.apiDeleteSource)
	g.PUT("/sources/:id/routes", a.apiPutRoutes)
	g.POST("/sources/:id/rotate-url", a.apiRotateURL)
	g.POST("/sources/:id/recommended-properties", a.apiRecommended)
	g.POST("/sources/:id/test-signup", a.apiTestSignup)
	g.GET("/sources/:id/last-payload", a.apiLastPayload)
	g.GET("/sources/:id/events/:eventId", a.apiEvent)
	g.POST("/sources/:id/events/:eventId/retry", a.apiRetry)
	g.GET("/tokens", a.apiTokens)
	g.POST("/tokens", a.apiCreateToken)
	g.DELETE("/tokens/:tokenId", a.apiRevokeToken)
}

// withPortal and withSource run h with the authorized resource, or record
// the error.
func (a *App) withPortal(h func(*gin.Context, tenants.Portal)) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := a.workspacePortal(c)
		if err != nil {
			_ = c.Error(err)
			return
		}
		h(c, p)
	}
}

func (a *App) withSource(h func(*gin.Context, tenants.Source)) gin.HandlerFunc {
	return func(c *gin.Context) {
		src, err := a.workspaceSource(c)
		if err != nil {
			_ = c.Error(err)
			return
		}
		h(c, src)
	}
}

// reply renders v as JSON with status, or the error.
func reply(c *gin.Context, status int, v any, err error) {
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(status, v)
}

func (a *App) apiPortal(c *gin.Context) {
	a.withPortal(func(c *gin.Context, p tenants.Portal) {
		ctx := c.Request.Context()
		srcs, err := a.store.Sources(ctx, p.WorkspaceID)
		if err != nil {
			_ = c.Error(err)
			return
		}
		out, err := a.summarizePortals(ctx, []tenants.Portal{p}, srcs)
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.JSON(http.StatusOK, out[0])
	})(c)
}

func (a *App) apiDisconnect(c *gin.Context) {
	a.withPortal(func(c *gin.Context, p tenants.Portal) {
		p, err := a.disconnectPortal(c.Request.Context(), p)
		reply(c, http.StatusOK, viewPortal(p), err)
	})(c)
}

func (a *App) apiDeletePortal(c *gin.Context) {
	a.withPortal(func(c *gin.Context, p tenants.Portal) {
		if err := a.deletePortal(c.Request.Context(), p); err != nil {
			_ = c.Error(err)
			return
		}
		c.Status(http.StatusNoContent)
	})(c)
}

func (a *App) apiProperties(c *gin.Context) {
	a.withPortal(func(c *gin.Context, p tenants.Portal) {
		props, err := a.portalProperties(c.Request.Context(), p.HubID, c.Query("refresh") != "")
		reply(c, http.StatusOK, gin.H{"properties": props}, err)
	})(c)
}

func (a *App) apiPatchSource(c *gin.Context) {
	a.withSource(func(c *gin.Context, src tenants.Source) {
		var in struct {
			Name  *string `json:"name"`
			HubID *int64  `json:"hub_id"`
		}
		if err := decodeJSON(c, &in); err != nil {
			_ = c.Error(err)
			return
		}
		src, err := a.patchSource(c.Request.Context(), src, in.Name, in.HubID)
		reply(c, http.StatusOK, a.viewSource(src), err)
	})(c)
}

// patchSource renames a source or moves its default route to another
// portal of the workspace.
func (a *App) patchSource(ctx context.Context, src tenants.Source, name *string, hub *int64) (tenants.Source, error) {
	if name != nil {
		n := strings.TrimSpace(*name)
		if n == "" || len(n) > 100 {
			return src, apperr.New(apperr.Unprocessable, "give the source a name of 1 to 100 characters")
		}
		src.Name = n
	}
	if hub != nil {
		if _, err := a.store.WorkspacePortal(ctx, src.WorkspaceID, *hub); err != nil {
			return src, apperr.New(apperr.Unprocessable, "that portal is not connected to this workspace")
		}
		src.HubID = *hub
		if err := a.queue.Register(ctx, *hub); err != nil {
			return src, err
		}
	}
	return a.sources.Save(ctx, src)
}

func (a *App) apiDeleteSource(c *gin.Context) {
	a.withSource(func(c *gin.Context, src tenants.Source) {
		if err := a.deleteSource(c.Request.Context(), src); err != nil {
			_ = c.Error(err)
			return
		}
		c.Status(http.StatusNoContent)
	})(c)
}

func (a *App) apiPutRoutes(c *gin.Context) {
	a.withSource(func(c *gin.Context, src tenants.Source) {
		var in struct {
			Routes []tenants.Route `json:"routes"`
		}
		if err := decodeJSON(c, &in); err != nil {
			_ = c.Error(err)
			return
		}
		if in.Routes == nil {
			in.Routes = []tenants.Route{}
		}
		src, err := a.saveRoutes(c.Request.Context(), src, in.Routes)
		reply(c, http.StatusOK, a.viewSource(src), err)
	})(c)
}

func (a *App) apiRotateURL(c *gin.Context) {
	a.withSource(func(c *gin.Context, src tenants.Source) {
		src, err := a.sources.Rotate(c.Request.Context(), src)
		reply(c, http.StatusOK, a.viewSource(src), err)
	})(c)
}

func (a *App) apiRecommended(c *gin.Context) {
	a.withSource(func(c *gin.Context, src tenants.Source) {
		_, res, err := a.createRecommended(c.Request.Context(), src)
		reply(c, http.StatusOK, res, err)
	})(c)
}

func (a *App) apiTestSignup(c *gin.Context) {
	a.withSource(func(c *gin.Context, src tenants.Source) {
		var in struct {
			Email string `json:"email"`
		}
		if c.Request.ContentLength != 0 {
			if err := decodeJSON(c, &in); err != nil {
				_ = c.Error(err)
				return
			}
		}
		if in.Email == "" {
			in.Email = principal(c).Email
		}
		ev, err := a.sendTestSignup(c.Request.Context(), src, in.Email)
		reply(c, http.StatusAccepted, a.viewEvent(ev), err)
	})(c)
}

func (a *App) apiLastPayload(c *gin.Context) {
	a.withSource(func(c *gin.Context, src tenants.Source) {
		ev, err := a.lastPayload(c.Request.Context(), src)
		if err != nil || ev == nil {
			reply(c, http.StatusOK, gin.H{"received_at": nil, "fields": []any{}}, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"received_at": ev.ReceivedAt, "fields": redactFields(ev.Payload)})
	})(c)
}

func (a *App) apiEvent(c *gin.Context) {
	a.withSource(func(c *gin.Context, src tenants.Source) {
		ev, err := a.findEvent(c.Request.Context(), src, c.Param("eventId"))
		if err == nil {
			evs := []queue.Event{ev}
			a.explainWaiting(c.Request.Context(), evs)
			ev = evs[0]
		}
		reply(c, http.StatusOK, a.viewEvent(ev), err)
	})(c)
}

func (a *App) apiRetry(c *gin.Context) {
	a.withSource(func(c *gin.Context, src tenants.Source) {
		ev, err := a.retryEvent(c.Request.Context(), src, c.Param("eventId"))
		reply(c, http.StatusAccepted, a.viewEvent(ev), err)
	})(c)
}

// sessionOnly refuses API-token callers: tokens are managed by people.
func sessionOnly(c *gin.Context) bool {
	if principal(c).SessionID == "" {
		_ = c.Error(apperr.New(apperr.Unauthorized, "API tokens are managed by a signed-in user of the refhub app, not with an API token"))
		return false
	}
	return true
}

func (a *App) apiTokens(c *gin.Context) {
	if !sessionOnly(c) {
		return
	}
	ts, err := a.store.APITokens(c.Request.Context(), principal(c).WorkspaceID)
	if ts == nil {
		ts = []tenants.APIToken{}
	}
	reply(c, http.StatusOK, gin.H{"tokens": ts}, err)
}

func (a *App) apiCreateToken(c *gin.Context) {
	if !sessionOnly(c) {
		return
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	t, secret, err := a.store.CreateAPIToken(c.Request.Context(), principal(c).WorkspaceID, in.Name)
	reply(c, http.StatusCreated, gin.H{"token": t, "secret": secret,
		"note": "Copy the secret now: refhub stores only a hash of it and cannot show it again."}, err)
}

func (a *App) apiRevokeToken(c *gin.Context) {
	if !sessionOnly(c) {
		return
	}
	if err := a.revokeToken(c); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

// revokeToken revokes the :tokenId API token of the caller's workspace.
func (a *App) revokeToken(c *gin.Context) error {
	err := a.store.RevokeAPIToken(c.Request.Context(), principal(c).WorkspaceID, c.Param("tokenId"))
	if errors.Is(err, tenants.ErrNotFound) {
		return apperr.New(apperr.NotFound, "no such API token")
	}
	return err
}
