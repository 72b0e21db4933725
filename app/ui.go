package app

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/queue"
)

//go:embed web/templates/*.html
var templateFS embed.FS

//go:embed web/static
var staticFS embed.FS

//go:embed web/openapi.json
var openAPIDoc []byte

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"ago":     ago,
	"human":   human,
	"inc":     func(i int) int { return i + 1 },
	"outcome": outcomeText,
}).ParseFS(templateFS, "web/templates/*.html"))

func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return pluralize(int(d.Minutes()), "minute") + " ago"
	case d < 48*time.Hour:
		return pluralize(int(d.Hours()), "hour") + " ago"
	}
	return pluralize(int(d.Hours()/24), "day") + " ago"
}

func pluralize(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// outcomeText says what delivery did in HubSpot, for an admin.
func outcomeText(o queue.Outcome) string {
	switch o {
	case queue.Created:
		return "Created a new contact"
	case queue.Updated:
		return "Updated the existing contact"
	case queue.Skipped:
		return "The contact already existed and was left untouched (duplicate policy: skip)"
	case queue.Filled:
		return "Filled the empty fields of the existing contact"
	case queue.Unchanged:
		return "The contact already existed and had nothing empty to fill"
	case queue.Superseded:
		return "A newer signup for the same email was delivered instead"
	}
	return "Delivered"
}

// human turns an identifier such as "needs_reconnect" into words.
func human(v any) string { return strings.ReplaceAll(fmt.Sprint(v), "_", " ") }

// page is what every template gets.
type page struct {
	Title      string
	User       string
	CSRF       string
	Flash      string
	FlashError bool
	Nav        string  // the header link marked current: "portals" or "tokens"
	Crumbs     []crumb // breadcrumb trail above the title
	Data       any
}

// crumb is one link of the breadcrumb trail.
type crumb struct{ Label, URL string }

// render executes a template into a buffer first, so a template error
// never leaves half a page.
func (a *App) render(c *gin.Context, status int, name string, p page) {
	pr := principal(c)
	p.User = pr.Email
	if pr.SessionID != "" {
		p.CSRF = a.sessions.CSRFToken(pr.SessionID)
		if c.Request.Method == http.MethodGet {
			if f, ok := a.takeFlash(c.Request.Context(), pr.SessionID); ok {
				p.Flash, p.FlashError = f.Message, f.Error
			}
		}
	}
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, p); err != nil {
		a.log.Error("render page", slog.String("template", name), slog.Any("err", err))
		c.String(http.StatusInternalServerError, "refhub could not render this page; it has been logged")
		return
	}
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self' "+a.cfg.AppBase)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "same-origin")
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (a *App) renderErrorPage(c *gin.Context, status int, e *apperr.Error) {
	a.render(c, status, "error.html", page{Title: http.StatusText(status), Data: map[string]any{
		"Status": status, "Message": e.Message, "SignIn": e.Code == apperr.Unauthorized || strings.HasPrefix(c.Request.URL.Path, "/oauth/")}})
}

func (a *App) static(c *gin.Context) {
	name := path.Join("web/static", path.Clean(c.Param("file")))
	b, err := staticFS.ReadFile(name)
	if err != nil {
		_ = c.Error(apperr.New(apperr.NotFound, "no such file"))
		return
	}
	ct := "application/octet-stream"
	switch path.Ext(name) {
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, ct, b)
}
