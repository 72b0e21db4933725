package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Token is what HubSpot's token endpoint returns.
type Token struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time     // by this process's clock when the token arrived
	ExpiresIn    time.Duration // the lifetime HubSpot stated (expires_in), 0 if none
	HubID        int64
	UserID       int64
	Scopes       []string
}

// AuthorizeURL is HubSpot's consent page URL for an install. Scopes are
// joined with %20, as HubSpot documents.
func (c *Client) AuthorizeURL(redirectURI string, scopes []string, state string) string {
	q := url.Values{}
	q.Set("client_id", c.clientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("state", state)
	enc := q.Encode() + "&scope=" + strings.ReplaceAll(url.QueryEscape(strings.Join(scopes, " ")), "+", "%20")
	return c.appBase + "/oauth/authorize?" + enc
}

// oauthConfig is the golang.org/x/oauth2 configuration for the app. Client
// credentials travel in the form body, as HubSpot requires.
func (c *Client) oauthConfig(redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.clientID,
		ClientSecret: c.clientSecret,
		RedirectURL:  redirectURI,
		Endpoint: oauth2.Endpoint{
			AuthURL:   c.appBase + "/oauth/authorize",
			TokenURL:  c.apiBase + c.oauthPath(""),
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func (c *Client) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.http)
}

// Exchange trades an authorization code for tokens (authorization_code grant).
func (c *Client) Exchange(ctx context.Context, code, redirectURI string) (*Token, error) {
	t, err := c.oauthConfig(redirectURI).Exchange(c.oauthContext(ctx), code)
	if err != nil {
		return nil, oauthErr("exchange code", err)
	}
	return fromOAuth2(t), nil
}

// Refresh gets a new access token with a refresh token (refresh_token grant).
// The returned RefreshToken is the one to store from now on.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	src := c.oauthConfig("").TokenSource(c.oauthContext(ctx), &oauth2.Token{RefreshToken: refreshToken})
	t, err := src.Token()
	if err != nil {
		return nil, oauthErr("refresh token", err)
	}
	return fromOAuth2(t), nil
}

func oauthErr(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return fmt.Errorf("%s: %w", op, parseOAuthError(re.Response.StatusCode, re.Body))
	}
	return &NetworkError{Op: op, Err: err}
}

func fromOAuth2(t *oauth2.Token) *Token {
	out := &Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry,
		ExpiresIn: time.Duration(t.ExpiresIn) * time.Second}
	out.HubID = int64Extra(t.Extra("hub_id"))
	out.UserID = int64Extra(t.Extra("user_id"))
	if raw, ok := t.Extra("scopes").([]any); ok {
		for _, s := range raw {
			if str, ok := s.(string); ok {
				out.Scopes = append(out.Scopes, str)
			}
		}
	}
	return out
}

func int64Extra(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return 0
}

// TokenInfo is HubSpot's introspection of a token.
type TokenInfo struct {
	Active    bool     `json:"active"`
	HubID     int64    `json:"hub_id"`
	HubDomain string   `json:"hub_domain"`
	UserID    int64    `json:"user_id"`
	User      string   `json:"user"`
	AppID     int64    `json:"app_id"`
	ClientID  string   `json:"client_id"`
	Scopes    []string `json:"scopes"`
	TokenUse  string   `json:"token_use"`
	ExpiresIn int64    `json:"expires_in"`
}

// Introspect asks HubSpot who a token belongs to (portal, domain, user).
// hint is "access_token" or "refresh_token".
func (c *Client) Introspect(ctx context.Context, token, hint string) (*TokenInfo, error) {
	var info TokenInfo
	if err := c.postForm(ctx, c.oauthPath("/introspect"), url.Values{
		"token": {token}, "token_type_hint": {hint},
	}, &info); err != nil {
		return nil, fmt.Errorf("introspect token: %w", err)
	}
	return &info, nil
}

// Revoke revokes a token at HubSpot. Revoking a refresh token stops future
// refreshes; it does not uninstall the app.
func (c *Client) Revoke(ctx context.Context, token, hint string) error {
	if err := c.postForm(ctx, c.oauthPath("/revoke"), url.Values{
		"token": {token}, "token_type_hint": {hint},
	}, nil); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// postForm sends an app-authenticated, form-encoded request to an OAuth
// endpoint.
func (c *Client) postForm(ctx context.Context, path string, form url.Values, out any) error {
	form.Set("client_id", c.clientID)
	form.Set("client_secret", c.clientSecret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiBase+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return &NetworkError{Op: "POST " + path, Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return &NetworkError{Op: "POST " + path, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode >= 500 {
			return parseError(resp.StatusCode, resp.Header, raw)
		}
		var probe errorBody
		if json.Unmarshal(raw, &probe) == nil && probe.Category != "" {
			return parseError(resp.StatusCode, resp.Header, raw)
		}
		return parseOAuthError(resp.StatusCode, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return &NetworkError{Op: "decode the answer to POST " + path, Err: err}
		}
	}
	return nil
}
