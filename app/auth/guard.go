package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/tenants"
)

const principalKey = "refhub.principal"

// PrincipalOf returns who is calling, as the guard found it (zero outside
// a guarded route).
func PrincipalOf(c *gin.Context) Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(Principal)
	return pr
}

// Directory finds the API token of a secret and the members of a
// workspace.
type Directory interface {
	APIToken(ctx context.Context, secret string) (tenants.APIToken, error)
	Member(ctx context.Context, wsID string, userID int64) (tenants.Member, error)
	Workspace(ctx context.Context, id string) (tenants.Workspace, error)
}

// Guard authenticates the caller of the API and the settings pages.
type Guard struct {
	dir      Directory
	sessions *Sessions
}

// NewGuard returns a guard that knows callers by API token or session.
func NewGuard(dir Directory, sessions *Sessions) *Guard {
	return &Guard{dir: dir, sessions: sessions}
}

// admit loads the caller's membership as it is now: a member removed since
// the session or token was made (even one who joined again since) is
// refused, and a changed role or grant applies at once.
func (g *Guard) admit(ctx context.Context, p Principal) (Principal, error) {
	uid := p.UserID
	if uid == 0 { // an API token made before members were recorded: the owner's
		ws, err := g.dir.Workspace(ctx, p.WorkspaceID)
		if err != nil {
			return Principal{}, gone(err)
		}
		uid = ws.OwnerUserID
	}
	m, err := g.dir.Member(ctx, p.WorkspaceID, uid)
	if err != nil {
		return Principal{}, gone(err)
	}
	if m.Gen != p.MemberGen {
		return Principal{}, gone(tenants.ErrNotFound)
	}
	p.UserID, p.Member = uid, m
	return p, nil
}

// gone is the refusal of a caller who is no longer a member.
func gone(err error) error {
	if errors.Is(err, tenants.ErrNotFound) {
		return apperr.New(apperr.Unauthorized, "you are no longer a member of this refhub workspace: ask its owner")
	}
	return err
}

// authenticate resolves the caller from the session cookie or an API token.
func (g *Guard) authenticate(c *gin.Context) (Principal, error) {
	if h := c.GetHeader("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return Principal{}, apperr.New(apperr.Unauthorized, "use Authorization: Bearer <API token>")
		}
		t, err := g.dir.APIToken(c.Request.Context(), strings.TrimSpace(token))
		if err != nil {
			if errors.Is(err, tenants.ErrNotFound) {
				return Principal{}, apperr.New(apperr.Unauthorized, "unknown or revoked API token")
			}
			return Principal{}, err
		}
		return g.admit(c.Request.Context(), Principal{WorkspaceID: t.WorkspaceID, TokenID: t.ID, Email: "api-token:" + t.Name,
			UserID: t.CreatedBy, MemberGen: t.MemberGen})
	}
	cookie, err := c.Cookie(SessionCookie)
	if err != nil || cookie == "" {
		return Principal{}, apperr.New(apperr.Unauthorized, "sign in with HubSpot first")
	}
	p, err := g.sessions.Verify(c.Request.Context(), cookie)
	if errors.Is(err, ErrNoSession) {
		return Principal{}, apperr.New(apperr.Unauthorized, "your session has ended: sign in with HubSpot again")
	}
	if err != nil {
		return Principal{}, err
	}
	return g.admit(c.Request.Context(), p)
}

// checkCSRF refuses a state-changing browser request without the session's
// anti-forgery token (header or form field). API tokens need none: a
// browser never sends them on its own.
func (g *Guard) checkCSRF(c *gin.Context, p Principal) bool {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if p.SessionID == "" {
		return true
	}
	token := c.GetHeader(CSRFHeader)
	if token == "" {
		token = c.PostForm(CSRFField)
	}
	return g.sessions.CheckCSRF(p.SessionID, token)
}

// guard authenticates, checks the CSRF token (refusing with forged's
// message), and admits the caller; signIn, if set, answers a caller who is
// not signed in instead of the error.
func (g *Guard) guard(c *gin.Context, forged string, signIn func(*gin.Context, *apperr.Error) bool) {
	p, err := g.authenticate(c)
	if err != nil {
		var e *apperr.Error
		if signIn != nil && errors.As(err, &e) && signIn(c, e) {
			c.Abort()
			return
		}
		refuse(c, err)
		return
	}
	if !g.checkCSRF(c, p) {
		refuse(c, apperr.New(apperr.Forbidden, forged))
		return
	}
	c.Set(principalKey, p)
	c.Next()
}

// API guards /api/v1: 401 without a valid session or token, 403 for a
// browser write without the CSRF token.
func (g *Guard) API(c *gin.Context) {
	g.guard(c, "missing or invalid CSRF token (send the refhub_csrf cookie's value in X-CSRF-Token)", nil)
}

// Pages guards /app: without a session, a page request is sent to sign in
// (the HubSpot install flow) and comes back afterwards.
func (g *Guard) Pages(c *gin.Context) {
	g.guard(c, "this form has expired or did not come from refhub: reload the page and try again", toSignIn)
}

// toSignIn redirects a GET of a page by someone not signed in to the
// sign-in page, which brings them back.
func toSignIn(c *gin.Context, e *apperr.Error) bool {
	if e.Code != apperr.Unauthorized || c.Request.Method != http.MethodGet {
		return false
	}
	c.Redirect(http.StatusFound, "/app/signin?return_to="+url.QueryEscape(c.Request.URL.RequestURI()))
	return true
}

// RequireSession refuses API-token callers: tokens are managed by people.
func RequireSession(c *gin.Context) {
	if PrincipalOf(c).SessionID == "" {
		refuse(c, apperr.New(apperr.Unauthorized, "API tokens are managed by a signed-in user of the refhub app, not with an API token"))
		return
	}
	c.Next()
}

// RequireWriter refuses viewers: what it guards changes something.
func RequireWriter(c *gin.Context) {
	if !PrincipalOf(c).Member.CanWrite() {
		refuse(c, ReadOnly())
		return
	}
	c.Next()
}

// RequireOwner refuses everyone but the workspace's owner.
func RequireOwner(c *gin.Context) {
	if PrincipalOf(c).Member.Role != tenants.Owner {
		refuse(c, apperr.New(apperr.Forbidden, "only the workspace's owner manages its members"))
		return
	}
	c.Next()
}

// ReadOnly is the refusal of a change by a member who may only read it.
func ReadOnly() error {
	return apperr.New(apperr.Forbidden, "your role in this workspace can read this but not change it: ask the workspace's owner")
}

// refuse stops the request with err, which the error middleware answers.
func refuse(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}
