// Package referralfactory is a thin client for the parts of Referral
// Factory refhub calls: the REST API's user list and user lookup (to bring
// in users who joined before the webhook existed), and a customer's inbound
// qualify webhook (to qualify a referral when its lead converts in
// HubSpot). Answers become typed errors (errors.go) so a worker decides on
// pause, retry or give-up by type. Which behaviour is documented by
// Referral Factory and which is assumed is listed in README.md.
package referralfactory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Default base URLs (REFERRAL_FACTORY_API_BASE and REFERRAL_FACTORY_BASE).
const (
	DefaultAPIBase = "https://referral-factory.com/api/v2"
	DefaultBase    = "https://referral-factory.com"
)

// maxResponseBytes bounds how much of an answer is read: a full page of 250
// users is well under 2 MiB.
const maxResponseBytes = 16 << 20

// Config configures a Client.
type Config struct {
	// APIBase is the REST API's base URL; default DefaultAPIBase.
	APIBase string
	// Base is the only scheme and host Qualify ever calls; default
	// DefaultBase. Inbound URLs must be https under it, or http when Base
	// itself is http (a local simulator).
	Base string
	// HTTPClient sends every request and bounds it with its Timeout;
	// default a client with a 30 s timeout. Redirects are never followed,
	// whatever the client's own policy.
	HTTPClient *http.Client
	// UserAgent is sent with every request; default "refhub".
	UserAgent string
	// Clock reads HTTP-date Retry-After headers; default time.Now.
	Clock func() time.Time
}

// Client talks to Referral Factory for one refhub deployment. It is safe
// for concurrent use; calls with a customer's API token go through Account.
type Client struct {
	apiBase   *url.URL
	base      *url.URL
	http      *http.Client
	userAgent string
	now       func() time.Time
}

// New returns a Client for cfg, filling in defaults. It refuses base URLs
// that are not absolute http(s) URLs.
func New(cfg Config) (*Client, error) {
	apiBase, err := parseBase("API base", cfg.APIBase, DefaultAPIBase)
	if err != nil {
		return nil, err
	}
	base, err := parseBase("base", cfg.Base, DefaultBase)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	// A copy, so the caller's client keeps its own redirect policy: a
	// redirect would take a request (and, for qualify, tenant input) to a
	// host nobody vetted.
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Client{apiBase: apiBase, base: base, http: &noRedirect, userAgent: cfg.UserAgent, now: cfg.Clock}
	if c.userAgent == "" {
		c.userAgent = "refhub"
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func parseBase(what, raw, def string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		raw = def
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("referralfactory: %s %q: want an absolute http(s) URL without credentials, query or fragment", what, raw)
	}
	return u, nil
}

// APIBase returns the REST API's base URL.
func (c *Client) APIBase() string { return c.apiBase.String() }

// Base returns the base URL inbound webhooks must be under.
func (c *Client) Base() string { return c.base.String() }

// Account is the REST API of one Referral Factory account, authenticated
// with that account's API token. It never prints the token.
type Account struct {
	c     *Client
	token string
}

// Account returns the API of the account whose token this is.
func (c *Client) Account(token string) *Account {
	return &Account{c: c, token: strings.TrimSpace(token)}
}

// String hides the token from %v and %s.
func (a *Account) String() string { return "referralfactory.Account{token: redacted}" }

// GoString hides the token from %#v.
func (a *Account) GoString() string { return a.String() }

// errNoToken is returned before any request when the token is empty or
// could not be a header value.
var errNoToken = errors.New("referralfactory: no usable API token")

// get sends an authenticated GET to the escaped path under the API base and
// returns the body of a 2xx answer.
func (a *Account) get(ctx context.Context, op, path string, query url.Values) ([]byte, error) {
	if a.token == "" || strings.ContainsAny(a.token, "\r\n\x00 ") {
		return nil, errNoToken
	}
	// path is already escaped by the caller (an identifier may hold "/").
	target := strings.TrimRight(a.c.apiBase.String(), "/") + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("referralfactory: %s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	return a.c.send(req, op, nil)
}

// send runs req and returns the body of a 2xx answer or a typed error.
// redact, when set, rewrites transport errors (which quote the URL).
func (c *Client) send(req *http.Request, op string, redact func(error) error) ([]byte, error) {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		if redact != nil {
			err = redact(err)
		}
		return nil, &NetworkError{Op: op, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		if redact != nil {
			err = redact(err)
		}
		return nil, &NetworkError{Op: op + ": read answer", Err: err}
	}
	if len(body) > maxResponseBytes {
		return nil, fmt.Errorf("referralfactory: %s: answer larger than %d bytes", op, maxResponseBytes)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		// Never followed (see New): a redirect is an answer we cannot use.
		return nil, &APIError{StatusCode: resp.StatusCode, Message: "unexpected redirect; not followed"}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, parseError(resp.StatusCode, resp.Header, body, c.now())
	}
	return body, nil
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
