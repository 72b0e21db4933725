// Package pages is the settings app refhub serves at /app: one file per
// page (portals, a source's overview, mapping editor, routing, activity and
// dead letters, API tokens, sign-in), the templates and static files beside
// them, and the error page. Pages call the workspace operations the JSON
// API calls, so a rule lives once; a form that fails is shown again with
// its input and the problem, and one that succeeds redirects with a flash
// message.
package pages

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
	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/app/privacy"
	"github.com/refhub/refhub/app/qualify"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/redisconn"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/tenants"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

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
	"dict":    dict,
}).ParseFS(templateFS, "templates/*.html"))

// dict makes a map of key, value pairs, to pass several values to a
// template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: %d arguments, not pairs", len(kv))
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

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
	case queue.Qualified:
		return "Qualified the referral at Referral Factory"
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
	Nav        string       // the header link marked current: "portals", "tokens" or "members"
	Role       tenants.Role // the caller's role (viewers see no API tokens link)
	Crumbs     []crumb      // breadcrumb trail above the title
	Data       any
}

// crumb is one link of the breadcrumb trail.
type crumb struct{ Label, URL string }

// Deps are what the pages work with.
type Deps struct {
	Workspace *workspace.Service
	Backfill  *backfill.Service
	Sessions  *auth.Sessions
	Redis     redis.UniversalClient // flash messages
	Log       *slog.Logger
	AppBase   string // HUBSPOT_APP_BASE: forms may post to HubSpot's install page
	// RedisProblems are the settings of refhub's Redis under which accepted
	// signups can be lost, shown on the home page.
	RedisProblems func() []redisconn.Problem
	Qualify       *qualify.Settings // the Qualification tab
	Erasure       *privacy.Service  // the Privacy page: forgetting people
}

// Pages serve the settings app.
type Pages struct {
	Deps
	ws *workspace.Service
}

// New returns the settings app's pages.
func New(d Deps) *Pages { return &Pages{Deps: d, ws: d.Workspace} }

// render executes a template into a buffer first, so a template error
// never leaves half a page.
func (h *Pages) render(c *gin.Context, status int, name string, p page) {
	pr := auth.PrincipalOf(c)
	p.User, p.Role = pr.Email, pr.Member.Role
	if pr.SessionID != "" {
		p.CSRF = h.Sessions.CSRFToken(pr.SessionID)
		if c.Request.Method == http.MethodGet {
			if f, ok := h.takeFlash(c.Request.Context(), pr.SessionID); ok {
				p.Flash, p.FlashError = f.Message, f.Error
			}
		}
	}
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, p); err != nil {
		h.Log.Error("render page", slog.String("template", name), slog.Any("err", err))
		c.String(http.StatusInternalServerError, "refhub could not render this page; it has been logged")
		return
	}
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self' "+h.AppBase)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "same-origin")
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// ErrorPage answers e as an HTML page with status.
func (h *Pages) ErrorPage(c *gin.Context, status int, e *apperr.Error) {
	h.render(c, status, "error.html", page{Title: http.StatusText(status), Data: map[string]any{
		"Status": status, "Message": e.Message, "SignIn": e.Code == apperr.Unauthorized || strings.HasPrefix(c.Request.URL.Path, "/oauth/")}})
}

// Static serves the pages' style sheet and script.
func (h *Pages) Static(c *gin.Context) error {
	name := path.Join("static", path.Clean(c.Param("file")))
	b, err := staticFS.ReadFile(name)
	if err != nil {
		return apperr.New(apperr.NotFound, "no such file")
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
	return nil
}
