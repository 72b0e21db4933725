// Package hubspot is a thin client for the HubSpot endpoints refhub uses:
// OAuth token, introspect and revoke; contact batch read, create, update and
// upsert; deal batch create (associations inline), upsert (by a
// unique-value property) and read; pipelines;
// association labels and batch associations; properties and property groups
// of contacts and deals; and the v3 signature of HubSpot's webhooks.
// HubSpot's error bodies become typed errors (see errors.go) so callers
// decide on retry, dead-letter or reconnect by type, not by string matching.
// The scopes each call needs are listed in scopes.md.
package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIVersion is the date-versioned API segment used on every path.
// HubSpot publishes a new version every March and September; change it here.
const DefaultAPIVersion = "2026-03"

// Default base URLs of HubSpot's API and app (consent page) hosts.
const (
	DefaultAPIBase = "https://api.hubapi.com"
	DefaultAppBase = "https://app.hubspot.com"
)

// maxResponseBytes bounds how much of a HubSpot response is read.
const maxResponseBytes = 16 << 20

// Config configures a Client.
type Config struct {
	APIBase      string // default DefaultAPIBase
	AppBase      string // default DefaultAppBase
	Version      string // default DefaultAPIVersion
	ClientID     string
	ClientSecret string
	HTTPClient   *http.Client // default: 30 s timeout
	UserAgent    string       // default "refhub"
}

// Client talks to HubSpot for one app (client id and secret). It is safe for
// concurrent use; per-portal calls go through Portal.
type Client struct {
	apiBase, appBase, version string
	clientID, clientSecret    string
	http                      *http.Client
	userAgent                 string
}

// New returns a Client for cfg, filling in defaults.
func New(cfg Config) *Client {
	c := &Client{
		apiBase:      strings.TrimRight(cfg.APIBase, "/"),
		appBase:      strings.TrimRight(cfg.AppBase, "/"),
		version:      cfg.Version,
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		http:         cfg.HTTPClient,
		userAgent:    cfg.UserAgent,
	}
	if c.apiBase == "" {
		c.apiBase = DefaultAPIBase
	}
	if c.appBase == "" {
		c.appBase = DefaultAppBase
	}
	if c.version == "" {
		c.version = DefaultAPIVersion
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.userAgent == "" {
		c.userAgent = "refhub"
	}
	return c
}

// ClientID returns the app's OAuth client id.
func (c *Client) ClientID() string { return c.clientID }

// AppBase returns the base URL of HubSpot's app host.
func (c *Client) AppBase() string { return c.appBase }

// Limiter admits API calls for a portal. Wait blocks until one call may be
// made (or ctx ends); Observe reports the limit HubSpot announced in its
// response headers.
type Limiter interface {
	Wait(ctx context.Context, hubID int64) error
	Observe(hubID int64, limit Announced)
}

// Announced is the rate limit HubSpot states in X-HubSpot-RateLimit-* headers.
type Announced struct {
	Max       int
	Remaining int
	Interval  time.Duration
}

// TokenFunc returns a valid access token for a portal.
type TokenFunc func(ctx context.Context) (string, error)

// Portal is the API of one HubSpot account (hub): every call takes a slot
// from the limiter first and authenticates with a fresh access token.
type Portal struct {
	c       *Client
	hubID   int64
	token   TokenFunc
	limiter Limiter
}

// Portal returns the API of hub hubID. limiter may be nil.
func (c *Client) Portal(hubID int64, token TokenFunc, limiter Limiter) *Portal {
	return &Portal{c: c, hubID: hubID, token: token, limiter: limiter}
}

// HubID returns the portal's id.
func (p *Portal) HubID() int64 { return p.hubID }

// call sends one authenticated JSON request and decodes a 2xx body into out.
// It returns the HTTP status so callers can tell 200 from 207.
func (p *Portal) call(ctx context.Context, method, path string, in, out any) (int, error) {
	if p.limiter != nil {
		if err := p.limiter.Wait(ctx, p.hubID); err != nil {
			return 0, fmt.Errorf("hubspot: rate limiter: %w", err)
		}
	}
	token, err := p.token(ctx)
	if err != nil {
		return 0, err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("hubspot: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.c.apiBase+path, body)
	if err != nil {
		return 0, fmt.Errorf("hubspot: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", p.c.userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.c.http.Do(req)
	if err != nil {
		return 0, &NetworkError{Op: method + " " + path, Err: err}
	}
	defer resp.Body.Close()
	if p.limiter != nil {
		if a, ok := announcedLimit(resp.Header); ok {
			p.limiter.Observe(p.hubID, a)
		}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return resp.StatusCode, &NetworkError{Op: method + " " + path, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, parseError(resp.StatusCode, resp.Header, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, &NetworkError{Op: "decode the answer to " + method + " " + path, Err: err}
		}
	}
	return resp.StatusCode, nil
}

// announcedLimit reads HubSpot's rate-limit headers.
func announcedLimit(h http.Header) (Announced, bool) {
	max, err1 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Max"))
	ms, err2 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
	if err1 != nil || err2 != nil || max <= 0 || ms <= 0 {
		return Announced{}, false
	}
	rem, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Remaining"))
	if err != nil {
		rem = -1
	}
	return Announced{Max: max, Remaining: rem, Interval: time.Duration(ms) * time.Millisecond}, true
}

func (c *Client) crmPath(format string, args ...any) string {
	return c.objectPath(ObjectContacts, fmt.Sprintf(format, args...))
}

func (c *Client) propertiesPath(suffix string) string {
	return c.propertiesPathOf(ObjectContacts, suffix)
}

// objectPath is /crm/objects/{version}/{objectType}{suffix}.
func (c *Client) objectPath(objectType, suffix string) string {
	return fmt.Sprintf("/crm/objects/%s/%s", c.version, url.PathEscape(objectType)) + suffix
}

// propertiesPathOf is /crm/properties/{version}/{objectType}{suffix}.
func (c *Client) propertiesPathOf(objectType, suffix string) string {
	return fmt.Sprintf("/crm/properties/%s/%s", c.version, url.PathEscape(objectType)) + suffix
}

// associationsPath is /crm/associations/{version}/{from}/{to}{suffix}.
func (c *Client) associationsPath(from, to, suffix string) string {
	return fmt.Sprintf("/crm/associations/%s/%s/%s", c.version, url.PathEscape(from), url.PathEscape(to)) + suffix
}

// pipelinesPath is /crm/pipelines/{version}/{objectType}.
func (c *Client) pipelinesPath(objectType string) string {
	return fmt.Sprintf("/crm/pipelines/%s/%s", c.version, url.PathEscape(objectType))
}

func (c *Client) oauthPath(suffix string) string {
	return fmt.Sprintf("/oauth/%s/token", c.version) + suffix
}
