package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// uiRoutes registers the settings app's pages.
func (a *App) uiRoutes(g *gin.RouterGroup) {
	g.GET("/", a.uiHome)
	g.POST("/signout", a.uiSignOut)
}

type homeSource struct {
	Source     sourceView
	Activity   []queue.Event
	CurlSample string
}

type homePortal struct {
	Portal  tenants.Portal
	Sources []homeSource
}

func (a *App) uiHome(c *gin.Context) {
	ctx := c.Request.Context()
	ws := principal(c).WorkspaceID
	portals, err := a.store.Portals(ctx, ws)
	if err != nil {
		_ = c.Error(err)
		return
	}
	srcs, err := a.store.Sources(ctx, ws)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var out []homePortal
	for _, p := range portals {
		hp := homePortal{Portal: p}
		for _, s := range srcs {
			if s.HubID != p.HubID {
				continue
			}
			evs, err := a.queue.Activity(ctx, s.Portals(), s.ID, queue.Filter{Limit: 10})
			if err != nil {
				_ = c.Error(err)
				return
			}
			hp.Sources = append(hp.Sources, homeSource{Source: a.viewSource(s), Activity: evs,
				CurlSample: CurlSample(a.webhookURL(s))})
		}
		out = append(out, hp)
	}
	a.render(c, http.StatusOK, "home.html", page{Title: "Your portals", Data: out})
}

func (a *App) uiSignOut(c *gin.Context) {
	a.sessions.SignOut(c.Request.Context(), c.Writer, principal(c).SessionID)
	c.Redirect(http.StatusSeeOther, "/app/signin")
}

func (a *App) uiSignIn(c *gin.Context) {
	a.render(c, http.StatusOK, "signin.html", page{Title: "Sign in", Data: map[string]string{
		"ReturnTo": c.Query("return_to")}})
}

// CurlSample is a ready-to-paste command that sends a test signup.
func CurlSample(webhookURL string) string {
	return `curl -sS -X POST '` + webhookURL + `' -H 'Content-Type: application/json' -d '{"email":"jane.doe+rf-test@example.com","first_name":"Jane","url":"https://example.referral-factory.com/r/JANE1","code":"JANE1","campaign_name":"Spring referral"}'`
}
