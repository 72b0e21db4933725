package hubspottest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"
)

// accessToken is an issued OAuth access token.
type accessToken struct {
	value      string
	hubID      int64
	userID     int64
	scopes     []string
	issued     time.Time
	expires    time.Time
	installGen int
	revoked    bool
}

// refreshToken is an issued OAuth refresh token, bound to its client.
type refreshToken struct {
	value      string
	hubID      int64
	userID     int64
	scopes     []string
	clientID   string
	installGen int
	refreshGen int
	revoked    bool
}

// authCode is an authorization code waiting to be exchanged.
type authCode struct {
	hubID       int64
	userID      int64
	scopes      []string
	clientID    string
	redirectURI string
	issued      time.Time
	used        bool
}

// codeTTL is how long an authorization code can be exchanged.
const codeTTL = 10 * time.Minute

// tokenState is the outcome of looking up an access token.
type tokenState int

const (
	tokenInvalid tokenState = iota
	tokenExpired
	tokenOK
)

// IssueTokens mints an access and refresh token for the portal user without
// the OAuth dance. Nil scopes grant the app's required and optional scopes.
// It panics on an unknown portal or user.
func (s *Server) IssueTokens(hubID, userID int64, scopes []string) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal("IssueTokens", hubID)
	if _, ok := p.info.user(userID); !ok {
		panic(fmt.Sprintf("hubspottest: IssueTokens: portal %d has no user %d", hubID, userID))
	}
	if scopes == nil {
		scopes = s.declaredScopes()
	}
	at := s.issueAccess(p, userID, scopes)
	rt := s.issueRefresh(p, userID, scopes)
	return at.value, rt.value
}

// declaredScopes returns required then optional scopes.
func (s *Server) declaredScopes() []string {
	out := append([]string(nil), s.opts.RequiredScopes...)
	return append(out, s.opts.OptionalScopes...)
}

// issueAccess mints an access token; callers hold s.mu.
func (s *Server) issueAccess(p *portal, userID int64, scopes []string) *accessToken {
	now := s.now()
	at := &accessToken{
		value:      newAccessTokenValue(),
		hubID:      p.info.HubID,
		userID:     userID,
		scopes:     append([]string(nil), scopes...),
		issued:     now,
		expires:    now.Add(s.tokenTTL),
		installGen: p.installGen,
	}
	s.access[at.value] = at
	return at
}

// issueRefresh mints a refresh token; callers hold s.mu.
func (s *Server) issueRefresh(p *portal, userID int64, scopes []string) *refreshToken {
	rt := &refreshToken{
		value:      "na1-" + newUUID(),
		hubID:      p.info.HubID,
		userID:     userID,
		scopes:     append([]string(nil), scopes...),
		clientID:   s.opts.ClientID,
		installGen: p.installGen,
		refreshGen: p.refreshGen,
	}
	s.refresh[rt.value] = rt
	return rt
}

// lookupAccess finds a usable access token; callers hold s.mu.
func (s *Server) lookupAccess(value string) (*accessToken, tokenState) {
	at, ok := s.access[value]
	if !ok || at.revoked {
		return nil, tokenInvalid
	}
	p, ok := s.portals[at.hubID]
	if !ok || p.installGen != at.installGen {
		return nil, tokenInvalid
	}
	if !s.now().Before(at.expires) {
		return at, tokenExpired
	}
	return at, tokenOK
}

// lookupRefresh finds a usable refresh token of this app; callers hold s.mu.
func (s *Server) lookupRefresh(value string) (*refreshToken, bool) {
	rt, ok := s.refresh[value]
	if !ok || rt.revoked || rt.clientID != s.opts.ClientID {
		return nil, false
	}
	p, ok := s.portals[rt.hubID]
	if !ok || p.installGen != rt.installGen || p.refreshGen != rt.refreshGen || p.deactivated[rt.userID] {
		return nil, false
	}
	return rt, true
}

// newAccessTokenValue returns an opaque token of 300 URL-safe characters,
// the size HubSpot tells integrators to plan for.
func newAccessTokenValue() string {
	b := make([]byte, 224)
	_, _ = rand.Read(b)
	return "CK" + base64.RawURLEncoding.EncodeToString(b)[:298]
}

// expiredAgo renders how long ago a token expired the way HubSpot does.
func expiredAgo(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d minute(s)", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hour(s)", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d day(s)", int(d/(24*time.Hour)))
	}
}

// IssuedTokens returns every access and refresh token the simulator has
// issued (valid or not), so tests can check none leaks into storage or logs.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.access)+len(s.refresh))
	for t := range s.access {
		out = append(out, t)
	}
	for t := range s.refresh {
		out = append(out, t)
	}
	return out
}
