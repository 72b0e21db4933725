package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/refhub/refhub/hubspot"
)

// NonceCookie holds the browser's install nonce between /oauth/install and
// /oauth/callback.
const NonceCookie = "refhub_oauth_nonce"

// HubSpot is what the install flow needs from HubSpot.
type HubSpot interface {
	AuthorizeURL(redirectURI string, scopes []string, state string) string
	Exchange(ctx context.Context, code, redirectURI string) (*hubspot.Token, error)
	Introspect(ctx context.Context, token, hint string) (*hubspot.TokenInfo, error)
}

// Installer runs HubSpot's OAuth install flow.
type Installer struct {
	hs          HubSpot
	states      *States
	scopes      []string
	redirectURI string
	secure      bool // Secure cookies (the public URL is https)
}

// NewInstaller returns an install flow requesting scopes, with HubSpot
// redirecting back to redirectURI.
func NewInstaller(hs HubSpot, states *States, scopes []string, redirectURI string) *Installer {
	return &Installer{hs: hs, states: states, scopes: scopes, redirectURI: redirectURI,
		secure: IsHTTPS(redirectURI)}
}

// Scopes returns the scopes the install requests.
func (i *Installer) Scopes() []string { return append([]string(nil), i.scopes...) }

// Begin sets the nonce cookie on w and returns HubSpot's consent page URL.
// returnTo is a path of the settings app to land on after the install
// (anything else is dropped: see LocalReturnTo).
func (i *Installer) Begin(w http.ResponseWriter, returnTo string) (string, error) {
	nonce, state, err := i.states.Issue(LocalReturnTo(returnTo))
	if err != nil {
		return "", fmt.Errorf("issue state: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: NonceCookie, Value: nonce, Path: "/oauth/", MaxAge: int(StateTTL.Seconds()),
		HttpOnly: true, Secure: i.secure, SameSite: http.SameSiteLaxMode,
	})
	return i.hs.AuthorizeURL(i.redirectURI, i.scopes, state), nil
}

// Grant is a completed install as HubSpot reports it.
type Grant struct {
	Token    *hubspot.Token
	Info     *hubspot.TokenInfo
	ReturnTo string
}

// DeniedError is HubSpot's redirect with error= (the user declined, or
// HubSpot refused the request).
type DeniedError struct{ Code, Description string }

func (e *DeniedError) Error() string {
	if e.Code == "access_denied" {
		return "the install was cancelled in HubSpot: nothing was connected"
	}
	return fmt.Sprintf("HubSpot did not complete the install (%s): %s", e.Code, e.Description)
}

// Complete checks the callback request, exchanges the code and asks HubSpot
// which portal and user the token belongs to. Nothing from the browser is
// trusted about the portal: hub id, domain and user come from HubSpot.
func (i *Installer) Complete(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Grant, error) {
	q := r.URL.Query()
	nonce := ""
	if c, err := r.Cookie(NonceCookie); err == nil {
		nonce = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: NonceCookie, Value: "", Path: "/oauth/", MaxAge: -1,
		HttpOnly: true, Secure: i.secure, SameSite: http.SameSiteLaxMode})
	returnTo, err := i.states.Verify(ctx, q.Get("state"), nonce)
	if err != nil {
		return nil, err
	}
	if code := q.Get("error"); code != "" {
		return nil, &DeniedError{Code: code, Description: q.Get("error_description")}
	}
	code := q.Get("code")
	if code == "" {
		return nil, errors.New("HubSpot's redirect carried no authorization code: start the install again")
	}
	tok, err := i.hs.Exchange(ctx, code, i.redirectURI)
	if err != nil {
		return nil, fmt.Errorf("exchange the authorization code: %w", err)
	}
	info, err := i.hs.Introspect(ctx, tok.AccessToken, "access_token")
	if err != nil {
		if tok.HubID == 0 {
			return nil, fmt.Errorf("ask HubSpot which portal was installed: %w", err)
		}
		// The token response named the portal (HubSpot, not the browser):
		// carry on without the domain and user email introspection adds.
		info = &hubspot.TokenInfo{Active: true, HubID: tok.HubID, UserID: tok.UserID, Scopes: tok.Scopes,
			HubDomain: fmt.Sprintf("portal %d", tok.HubID)}
	}
	if !info.Active || info.HubID == 0 {
		return nil, errors.New("HubSpot reports the new token as inactive: start the install again")
	}
	if tok.HubID != 0 && tok.HubID != info.HubID {
		return nil, fmt.Errorf("HubSpot reported portal %d at exchange and %d at introspection", tok.HubID, info.HubID)
	}
	if len(info.Scopes) == 0 {
		info.Scopes = tok.Scopes
	}
	if info.UserID == 0 {
		info.UserID = tok.UserID
	}
	if info.UserID == 0 {
		// The user decides the workspace the portal joins: never guess it.
		return nil, errors.New("HubSpot did not say which user installed the app: start the install again")
	}
	// Checked again: a state signed before the rules tightened is still
	// valid for a few minutes.
	return &Grant{Token: tok, Info: info, ReturnTo: LocalReturnTo(returnTo)}, nil
}

// RedirectURI returns the callback URL for a public base URL.
func RedirectURI(publicURL string) string {
	u, err := url.Parse(strings.TrimRight(publicURL, "/") + "/oauth/callback")
	if err != nil {
		return strings.TrimRight(publicURL, "/") + "/oauth/callback"
	}
	return u.String()
}
