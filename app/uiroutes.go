package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/oauth"
)

// uiRoutes registers the settings app's pages. Every page authorizes what
// it shows against the signed-in workspace (another workspace's ids answer
// 404), and every state-changing form is a POST carrying the CSRF token,
// checked by authenticateUI.
func (a *App) uiRoutes(g *gin.RouterGroup) {
	g.GET("/", a.uiHome)
	g.POST("/signout", a.uiSignOut)

	g.GET("/portals/:hubId", a.withPortal(a.uiPortal))
	g.POST("/portals/:hubId/sources", a.withPortal(a.uiCreateSource))
	g.POST("/portals/:hubId/disconnect", a.withPortal(a.uiDisconnect))
	g.POST("/portals/:hubId/delete", a.withPortal(a.uiDeletePortal))

	g.GET("/sources/:id", a.withSource(a.uiSource))
	g.POST("/sources/:id/rename", a.withSource(a.uiRenameSource))
	g.POST("/sources/:id/delete", a.withSource(a.uiDeleteSource))
	g.POST("/sources/:id/rotate-url", a.withSource(a.uiRotateURL))
	g.POST("/sources/:id/secret", a.withSource(a.uiCreateSecret))
	g.POST("/sources/:id/secret/delete", a.withSource(a.uiDeleteSecret))
	g.POST("/sources/:id/test-signup", a.withSource(a.uiTestSignup))

	g.GET("/sources/:id/mapping", a.withSource(a.uiMapping))
	g.POST("/sources/:id/mapping", a.withSource(a.uiSaveMapping))
	g.POST("/sources/:id/recommended-properties", a.withSource(a.uiRecommended))
	g.GET("/sources/:id/routes", a.withSource(a.uiRouting))
	g.POST("/sources/:id/routes", a.withSource(a.uiSaveRoutes))
	g.POST("/sources/:id/default-portal", a.withSource(a.uiDefaultPortal))

	g.GET("/sources/:id/activity", a.withSource(a.uiActivity))
	g.GET("/sources/:id/events/:eventId", a.withSource(a.uiEvent))
	g.POST("/sources/:id/events/:eventId/retry", a.withSource(a.uiRetry))
	g.GET("/sources/:id/dead-letters", a.withSource(a.uiDeadLetters))
	g.POST("/sources/:id/dead-letters/replay", a.withSource(a.uiReplay))

	g.GET("/tokens", a.uiTokens)
	g.POST("/tokens", a.uiCreateToken)
	g.POST("/tokens/:tokenId/revoke", a.uiRevokeToken)
}

func (a *App) uiSignOut(c *gin.Context) {
	a.sessions.SignOut(c.Request.Context(), c.Writer, principal(c).SessionID)
	c.Redirect(http.StatusSeeOther, "/app/signin")
}

func (a *App) uiSignIn(c *gin.Context) {
	a.render(c, http.StatusOK, "signin.html", page{Title: "Sign in", Data: map[string]string{
		"ReturnTo": oauth.LocalReturnTo(c.Query("return_to"))}})
}

// CurlSample is a ready-to-paste command that sends a test signup.
func CurlSample(webhookURL string) string {
	return `curl -sS -X POST '` + webhookURL + `' -H 'Content-Type: application/json' -d '{"email":"jane.doe+rf-test@example.com","first_name":"Jane","url":"https://example.referral-factory.com/r/JANE1","code":"JANE1","campaign_name":"Spring referral"}'`
}
