package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/hshooks"
	"github.com/refhub/refhub/app/web"
)

// Handler returns refhub's HTTP handler. Every route is registered here, in
// this one function. Handlers return errors (web.Handle); a handler that
// names a portal or source gets it loaded from the caller's workspace
// before it runs and authorized for the calling member (a.load.Portal,
// a.load.Source), so another workspace's ids, and portals a member was not
// granted, answer 404; every state-changing form or API call of a signed-in
// browser carries the CSRF token (a.guard).
func (a *App) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	// The client address (what unknown webhook URLs are limited by) comes
	// from X-Forwarded-For only behind the proxies the operator names:
	// anyone else could write any address there. Validated in LoadConfig.
	_ = r.SetTrustedProxies(a.cfg.TrustedProxies)
	r.Use(a.recoverer, a.observe, a.renderErrors)
	r.NoRoute(web.Handle(func(*gin.Context) error { return apperr.New(apperr.NotFound, "no such page") }))
	r.NoMethod(web.Handle(func(*gin.Context) error { return apperr.New(apperr.Invalid, "method not allowed on this URL") }))
	h, load, api, pg := web.Handle, a.load, a.api, a.pages

	r.GET("/healthz", a.healthz)
	r.GET("/readyz", a.readyz)
	r.GET("/metrics", h(a.serveMetrics))
	r.GET("/", redirect("/app/"))

	r.GET("/oauth/install", h(a.install.Begin))
	r.GET("/oauth/callback", h(a.install.Callback))

	r.POST("/hooks/referral-factory/:token", h(a.webhook.Receive))
	r.GET("/hooks/referral-factory/:token", h(a.webhook.Receive))
	r.POST(hshooks.Path, h(a.hooks.Receive))

	r.GET("/api/v1/openapi.json", h(api.OpenAPI))
	v1 := r.Group("/api/v1", a.guard.API)
	v1.GET("/portals", h(api.Portals))
	v1.GET("/portals/:hubId", load.Portal(api.Portal))
	v1.POST("/portals/:hubId/disconnect", load.Portal(api.Disconnect))
	v1.DELETE("/portals/:hubId", load.Portal(api.DeletePortal))
	v1.GET("/portals/:hubId/properties", load.Portal(api.Properties))
	v1.GET("/portals/:hubId/stats", load.Portal(api.PortalStats))
	v1.POST("/portals/:hubId/sources", load.Portal(api.CreateSource))
	v1.GET("/sources", h(api.Sources))
	v1.GET("/sources/:id", load.Source(api.Source))
	v1.PATCH("/sources/:id", load.Source(api.PatchSource))
	v1.DELETE("/sources/:id", load.Source(api.DeleteSource))
	v1.PUT("/sources/:id/mapping", load.Source(api.PutMapping))
	v1.PUT("/sources/:id/routes", load.Source(api.PutRoutes))
	v1.PUT("/sources/:id/lead-mapping", load.Source(api.PutLeadMapping))
	v1.DELETE("/sources/:id/lead-mapping", load.Source(api.DeleteLeadMapping))
	v1.PUT("/sources/:id/lead-rule", load.Source(api.PutLeadRule))
	v1.DELETE("/sources/:id/lead-rule", load.Source(api.DeleteLeadRule))
	v1.PUT("/sources/:id/deals", load.Source(api.PutDeals))
	v1.DELETE("/sources/:id/deals", load.Source(api.DeleteDeals))
	v1.GET("/sources/:id/deals/choices", load.Source(api.DealChoices))
	v1.POST("/sources/:id/rotate-url", load.Source(api.RotateURL))
	v1.POST("/sources/:id/secret", load.Source(api.CreateSecret))
	v1.DELETE("/sources/:id/secret", load.Source(api.DeleteSecret))
	v1.POST("/sources/:id/recommended-properties", load.Source(api.Recommended))
	v1.POST("/sources/:id/test-signup", load.Source(api.TestSignup))
	v1.GET("/sources/:id/last-payload", load.Source(api.LastPayload))
	v1.GET("/sources/:id/stats", load.Source(api.SourceStats))
	v1.GET("/sources/:id/activity", load.Source(api.Activity))
	v1.GET("/sources/:id/events/:eventId", load.Source(api.Event))
	v1.POST("/sources/:id/events/:eventId/retry", load.Source(api.Retry))
	v1.GET("/sources/:id/dead-letters", load.Source(api.DeadLetters))
	v1.POST("/sources/:id/dead-letters/replay", load.Source(api.Replay))
	v1.GET("/sources/:id/qualification", load.Source(api.Qualification))
	v1.PUT("/sources/:id/qualification", load.Source(api.PutQualification))
	v1.DELETE("/sources/:id/qualification", load.Source(api.DeleteQualification))
	v1.POST("/sources/:id/qualification/test", load.Source(api.TestQualification))
	v1.GET("/sources/:id/qualification/choices", load.Source(api.QualificationChoices))
	v1.POST("/forget", auth.RequireWriter, h(api.Forget))
	v1.GET("/forget", h(api.Deletions))
	v1.POST("/sources/:id/backfill", load.Source(api.StartBackfill))
	v1.GET("/sources/:id/backfill", load.Source(api.Backfill))
	v1.PUT("/sources/:id/backfill/daily", load.Source(api.PutDailyReconcile))
	v1.DELETE("/sources/:id/backfill/token", load.Source(api.ForgetRFToken))
	v1.GET("/tokens", auth.RequireSession, auth.RequireWriter, h(api.Tokens))
	v1.POST("/tokens", auth.RequireSession, auth.RequireWriter, h(api.CreateToken))
	v1.DELETE("/tokens/:tokenId", auth.RequireSession, auth.RequireWriter, h(api.RevokeToken))
	v1.GET("/members", h(api.Members))
	v1.PATCH("/members/:memberId", auth.RequireOwner, h(api.PatchMember))
	v1.DELETE("/members/:memberId", auth.RequireOwner, h(api.RemoveMember))

	r.GET("/app", redirect("/app/"))
	r.GET("/app/signin", h(pg.SignIn))
	ui := r.Group("/app", a.guard.Pages)
	ui.GET("/", h(pg.Home))
	ui.POST("/signout", h(pg.SignOut))
	ui.GET("/portals/:hubId", load.Portal(pg.Portal))
	ui.POST("/portals/:hubId/sources", load.Portal(pg.CreateSource))
	ui.POST("/portals/:hubId/disconnect", load.Portal(pg.Disconnect))
	ui.POST("/portals/:hubId/delete", load.Portal(pg.DeletePortal))
	ui.GET("/sources/:id", load.Source(pg.Source))
	ui.POST("/sources/:id/rename", load.Source(pg.RenameSource))
	ui.POST("/sources/:id/delete", load.Source(pg.DeleteSource))
	ui.POST("/sources/:id/rotate-url", load.Source(pg.RotateURL))
	ui.POST("/sources/:id/secret", load.Source(pg.CreateSecret))
	ui.POST("/sources/:id/secret/delete", load.Source(pg.DeleteSecret))
	ui.POST("/sources/:id/test-signup", load.Source(pg.TestSignup))
	ui.GET("/sources/:id/mapping", load.Source(pg.Mapping))
	ui.POST("/sources/:id/mapping", load.Source(pg.SaveMapping))
	ui.POST("/sources/:id/lead-rule", load.Source(pg.SaveLeadRule))
	ui.POST("/sources/:id/recommended-properties", load.Source(pg.Recommended))
	ui.GET("/sources/:id/routes", load.Source(pg.Routing))
	ui.POST("/sources/:id/routes", load.Source(pg.SaveRoutes))
	ui.POST("/sources/:id/default-portal", load.Source(pg.DefaultPortal))
	ui.GET("/sources/:id/deals", load.Source(pg.Deals))
	ui.POST("/sources/:id/deals", load.Source(pg.SaveDeals))
	ui.POST("/sources/:id/deals/delete", load.Source(pg.DeleteDeals))
	ui.GET("/sources/:id/qualification", load.Source(pg.Qualification))
	ui.POST("/sources/:id/qualification", load.Source(pg.SaveQualification))
	ui.POST("/sources/:id/qualification/test", load.Source(pg.TestQualification))
	ui.POST("/sources/:id/qualification/delete", load.Source(pg.DeleteQualification))
	ui.GET("/privacy", h(pg.Privacy))
	ui.POST("/privacy/forget", auth.RequireWriter, h(pg.Forget))
	ui.GET("/sources/:id/activity", load.Source(pg.Activity))
	ui.GET("/sources/:id/events/:eventId", load.Source(pg.Event))
	ui.POST("/sources/:id/events/:eventId/retry", load.Source(pg.Retry))
	ui.GET("/sources/:id/dead-letters", load.Source(pg.DeadLetters))
	ui.POST("/sources/:id/dead-letters/replay", load.Source(pg.Replay))
	ui.POST("/sources/:id/backfill", load.Source(pg.StartBackfill))
	ui.POST("/sources/:id/backfill/daily", load.Source(pg.DailyReconcile))
	ui.POST("/sources/:id/backfill/token/delete", load.Source(pg.ForgetRFToken))
	ui.GET("/tokens", auth.RequireSession, auth.RequireWriter, h(pg.Tokens))
	ui.POST("/tokens", auth.RequireSession, auth.RequireWriter, h(pg.CreateToken))
	ui.POST("/tokens/:tokenId/revoke", auth.RequireSession, auth.RequireWriter, h(pg.RevokeToken))
	ui.GET("/members", h(pg.Members))
	ui.POST("/members/:memberId", auth.RequireOwner, h(pg.SaveMember))
	ui.POST("/members/:memberId/remove", auth.RequireOwner, h(pg.RemoveMember))
	r.GET("/static/*file", h(pg.Static))
	return r
}

// redirect answers with a redirect to path.
func redirect(path string) gin.HandlerFunc {
	return func(c *gin.Context) { c.Redirect(http.StatusFound, path) }
}
