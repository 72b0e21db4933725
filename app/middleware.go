package app

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/metrics"
)

// recoverer answers a panic with a plain 500 (no stack to the client) and
// logs it.
func (a *App) recoverer(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			a.log.Error("panic serving request", slog.String("route", c.FullPath()), slog.Any("panic", v))
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": gin.H{
				"code": apperr.Internal, "message": "something went wrong on refhub's side; it has been logged"}})
		}
	}()
	c.Next()
}

// observe counts and logs requests by route pattern: never the raw path,
// which carries webhook tokens, and never bodies.
func (a *App) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	d := time.Since(start)
	status := c.Writer.Status()
	a.requests.Observe(route, status, d)
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	a.log.Log(c.Request.Context(), level, "request", slog.String("method", c.Request.Method),
		slog.String("route", route), slog.Int("status", status), slog.Duration("duration", d))
}

// renderErrors renders the first error a handler recorded: JSON for the API
// and webhooks, an HTML page for the app and the install flow.
func (a *App) renderErrors(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	e := apperr.As(c.Errors[0].Err)
	status := apperr.Status(e.Code)
	if status >= 500 {
		a.log.Error("request failed", slog.String("route", c.FullPath()), slog.Any("err", e))
	} else if e.Err != nil {
		a.log.Debug("request refused", slog.String("route", c.FullPath()), slog.Any("err", e.Err))
	}
	if wantsHTML(c) {
		a.pages.ErrorPage(c, status, e)
		return
	}
	c.JSON(status, gin.H{"error": gin.H{"code": e.Code, "message": e.Message}})
}

func wantsHTML(c *gin.Context) bool {
	p := c.Request.URL.Path
	if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/hooks/") {
		return false
	}
	return strings.HasPrefix(p, "/app") || strings.HasPrefix(p, "/oauth/") || strings.Contains(c.GetHeader("Accept"), "text/html")
}

func (a *App) healthz(c *gin.Context) { c.String(http.StatusOK, "ok\n") }

func (a *App) readyz(c *gin.Context) {
	if err := a.rdb.Ping(c.Request.Context()).Err(); err != nil {
		c.String(http.StatusServiceUnavailable, "redis unreachable\n")
		return
	}
	c.String(http.StatusOK, "ready\n")
}

// serveMetrics serves /metrics on the public listener: behind
// REFHUB_METRICS_TOKEN if one is configured, and not at all otherwise
// (scrape REFHUB_METRICS_ADDR, a listener meant for a private network).
func (a *App) serveMetrics(c *gin.Context) error {
	if a.cfg.MetricsToken == "" {
		return apperr.New(apperr.NotFound, "metrics are not served on this address: scrape REFHUB_METRICS_ADDR, "+
			"or set REFHUB_METRICS_TOKEN and send it as a bearer token")
	}
	metrics.Handler(a.registry, a.cfg.MetricsToken).ServeHTTP(c.Writer, c.Request)
	return nil
}
