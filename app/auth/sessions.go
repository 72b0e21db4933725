// Package auth says who is calling: sessions of HubSpot users signed in to
// the settings app (a JWT cookie naming a server-side record), API tokens,
// the anti-forgery (CSRF) token of a session, and the middleware that
// guards the API and the pages with them. A Principal is always scoped to
// one workspace.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// Session cookie names and lifetime.
const (
	SessionCookie = "refhub_session"
	CSRFCookie    = "refhub_csrf"
	SessionTTL    = 12 * time.Hour
	CSRFHeader    = "X-CSRF-Token"
	CSRFField     = "csrf_token"
)

// Principal is who is calling: a signed-in HubSpot user or an API token,
// always scoped to one workspace and acting as one of its members.
type Principal struct {
	WorkspaceID string
	UserID      int64
	Email       string
	SessionID   string // empty for API tokens
	TokenID     string // empty for sessions
	MemberGen   string // the membership the session or token was made in (tenants.Member.Gen)

	// Member is the member's role and portals as they are now, read on
	// every request by the guard (never stored with the session).
	Member tenants.Member `json:"-"`
}

type sessionClaims struct {
	SessionID   string `json:"sid"`
	WorkspaceID string `json:"ws"`
	UserID      int64  `json:"uid"`
	Email       string `json:"email"`
	jwt.RegisteredClaims
}

// Sessions signs users in with an HS256 JWT cookie that also names a
// server-side session record, so signing out (or deleting a workspace)
// ends the session everywhere. It owns the keys session:<id>.
type Sessions struct {
	key     []byte
	csrfKey []byte
	rdb     redis.UniversalClient
	secure  bool
	now     func() time.Time
}

// NewSessions returns sessions signed with keys derived from secret
// (REFHUB_SESSION_SECRET); secure marks the cookies Secure (refhub is
// served over https).
func NewSessions(secret []byte, rdb redis.UniversalClient, secure bool, now func() time.Time) *Sessions {
	return &Sessions{key: oauth.DeriveKey(secret, "session"), csrfKey: oauth.DeriveKey(secret, "csrf"),
		rdb: rdb, secure: secure, now: now}
}

func sessionKey(sid string) string { return "session:" + sid }

// SignIn starts a session for member m of a workspace and sets its cookies.
func (s *Sessions) SignIn(ctx context.Context, w http.ResponseWriter, ws tenants.Workspace, m tenants.Member) error {
	userID, email := m.UserID, m.Email
	sid := tenants.NewSecret()
	now := s.now()
	claims := sessionClaims{SessionID: sid, WorkspaceID: ws.ID, UserID: userID, Email: email,
		RegisteredClaims: jwt.RegisteredClaims{Issuer: "refhub", Audience: jwt.ClaimStrings{"refhub-session"},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(SessionTTL))}}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.key)
	if err != nil {
		return err
	}
	rec, _ := json.Marshal(Principal{WorkspaceID: ws.ID, UserID: userID, Email: email, SessionID: sid, MemberGen: m.Gen})
	if err := s.rdb.Set(ctx, sessionKey(sid), rec, SessionTTL).Err(); err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: signed, Path: "/", MaxAge: int(SessionTTL.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: s.CSRFToken(sid), Path: "/", MaxAge: int(SessionTTL.Seconds()),
		HttpOnly: false, Secure: s.secure, SameSite: http.SameSiteStrictMode})
	return nil
}

// ErrNoSession means the request carries no valid session.
var ErrNoSession = errors.New("not signed in")

// Verify returns the principal of a session cookie value.
func (s *Sessions) Verify(ctx context.Context, cookie string) (Principal, error) {
	var claims sessionClaims
	_, err := jwt.ParseWithClaims(cookie, &claims, func(*jwt.Token) (any, error) { return s.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(s.now), jwt.WithExpirationRequired(),
		jwt.WithIssuer("refhub"), jwt.WithAudience("refhub-session"))
	if err != nil {
		return Principal{}, ErrNoSession
	}
	raw, err := s.rdb.Get(ctx, sessionKey(claims.SessionID)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, err
	}
	var p Principal
	if err := json.Unmarshal(raw, &p); err != nil || p.WorkspaceID != claims.WorkspaceID {
		return Principal{}, ErrNoSession
	}
	return p, nil
}

// SignOut ends a session and clears its cookies.
func (s *Sessions) SignOut(ctx context.Context, w http.ResponseWriter, sid string) {
	if sid != "" {
		s.rdb.Del(ctx, sessionKey(sid))
	}
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: s.secure,
			HttpOnly: name == SessionCookie, SameSite: http.SameSiteLaxMode})
	}
}

// CSRFToken is the anti-forgery token of a session: an HMAC of its id, so
// nothing more is stored and a token is useless with another session.
func (s *Sessions) CSRFToken(sid string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF compares a submitted token with the session's, in constant time.
func (s *Sessions) CheckCSRF(sid, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(s.CSRFToken(sid)), []byte(token)) == 1
}
