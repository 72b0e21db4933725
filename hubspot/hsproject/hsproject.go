// Package hsproject builds refhub's HubSpot developer-platform project: the
// files `hs project upload` needs, made from the reference copies in the
// repository root (hubspot-app.json, hubspot-webhooks.json) and the URL
// refhub is reached at. The scopes, subscriptions and routes come from the
// same definitions the running code reads, so the project and refhub cannot
// disagree.
package hsproject

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"

	refhub "github.com/refhub/refhub"
	"github.com/refhub/refhub/oauth"
)

// PlatformVersion is the developer-platform version of the project: the
// first with which new marketplace apps can be listed and built.
const PlatformVersion = "2026.03"

// The project's files, relative to its root. HubSpot finds components by
// folder: the app component in src/app/, its webhooks in src/app/webhooks/.
const (
	ProjectFile  = "hsproject.json"
	AppFile      = "src/app/app-hsmeta.json"
	WebhooksFile = "src/app/webhooks/webhooks-hsmeta.json"
)

// Options say where refhub runs and whom installing users contact.
type Options struct {
	// PublicURL is the URL HubSpot reaches refhub at (REFHUB_PUBLIC_URL):
	// https, a host and nothing else.
	PublicURL string
	// Dev accepts http://localhost, for a development app that HubSpot
	// redirects to a refhub on the developer's machine.
	Dev bool
	// Name is the project's name in the HubSpot developer account
	// (default "refhub"); two refhub installations need two names.
	Name    string
	Support refhub.Support
}

// File is one file of the project.
type File struct {
	Path string // slash-separated, relative to the project root
	Data []byte
}

// Project is a built project.
type Project struct {
	PublicURL string // normalized: what REFHUB_PUBLIC_URL must be
	App       refhub.AppDefinition
	Webhooks  refhub.WebhooksDefinition
	Files     []File
}

// Build makes the project, or says what is wrong with the options (every
// problem, each naming its flag).
func Build(o Options) (*Project, error) {
	public, err := PublicURL(o.PublicURL, o.Dev)
	errs := []error{err}
	errs = append(errs, checkSupport(o.Support)...)
	name := strings.TrimSpace(o.Name)
	if name == "" {
		name = "refhub"
	}
	if strings.ContainsAny(name, `/\`) || len(name) > 100 {
		errs = append(errs, errors.New("--name: a project name of at most 100 characters, without slashes"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	p := &Project{PublicURL: public, App: refhub.App(), Webhooks: refhub.Webhooks()}
	p.App.Config.Auth.RedirectURLs = []string{oauth.RedirectURI(public)}
	p.App.Config.Support = nil
	if o.Support != (refhub.Support{}) {
		p.App.Config.Support = &o.Support
	}
	p.Webhooks.Config.Settings.TargetURL = public + p.Webhooks.TargetPath()

	project := struct {
		Name            string `json:"name"`
		SrcDir          string `json:"srcDir"`
		PlatformVersion string `json:"platformVersion"`
	}{name, "src", PlatformVersion}
	for _, f := range []struct {
		path string
		v    any
	}{{ProjectFile, project}, {AppFile, p.App}, {WebhooksFile, p.Webhooks}} {
		data, err := marshal(f.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.path, err)
		}
		p.Files = append(p.Files, File{Path: f.path, Data: data})
	}
	return p, nil
}

// marshal writes JSON as people write it: indented, ending in a newline,
// with &, < and > left as they are.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// PublicURL checks the URL refhub is reached at and returns it normalized
// (lower-case scheme, no trailing slash). HubSpot calls refhub at
// {url}/oauth/callback and {url}/hooks/hubspot and signs webhooks over that
// exact URL, so anything beyond scheme and host (a path, a query, a
// fragment, credentials) is refused rather than guessed at.
func PublicURL(raw string, dev bool) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("--public-url: required: the https URL HubSpot and Referral Factory reach refhub at (REFHUB_PUBLIC_URL), e.g. https://refhub.example.com")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("--public-url: %q is not a URL: %w", raw, err)
	}
	bad := func(problem string) (string, error) {
		return "", fmt.Errorf("--public-url: %q %s", raw, problem)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return bad("must start with https://, e.g. https://refhub.example.com")
	case u.Host == "" || u.Hostname() == "":
		return bad("has no host: give the full URL, e.g. https://refhub.example.com")
	case u.User != nil:
		return bad("must not carry a user name or password")
	case u.Path != "" && u.Path != "/", u.RawQuery != "" || u.ForceQuery, u.Fragment != "" || strings.Contains(raw, "#"):
		return bad("must be only scheme and host (and port): refhub serves /oauth/callback and /hooks/hubspot at the root of its URL, so a path, query or fragment cannot be used")
	case u.Scheme == "http" && !dev:
		return bad("is not https: HubSpot redirects installs and sends webhooks only to https URLs (use --dev for a development app on http://localhost)")
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return bad("is http on a host other than localhost: HubSpot accepts http redirect URLs only for localhost; use https")
	}
	return u.Scheme + "://" + u.Host, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkSupport checks what is given of the support contact. Nothing is
// required: the example contact of the reference copy is never used, and a
// project without one uploads (the marketplace listing asks for it later).
func checkSupport(s refhub.Support) []error {
	var errs []error
	if a, err := mail.ParseAddress(s.SupportEmail); s.SupportEmail != "" && (err != nil || a.Address != s.SupportEmail) {
		errs = append(errs, fmt.Errorf("--support-email: %q is not an email address such as support@example.com", s.SupportEmail))
	}
	for _, f := range []struct{ flag, val string }{{"--support-url", s.SupportURL}, {"--documentation-url", s.DocumentationURL}} {
		if f.val == "" {
			continue
		}
		if u, err := url.Parse(f.val); err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an https URL", f.flag, f.val))
		}
	}
	if p := s.SupportPhone; p != "" && (len(p) > 30 || strings.Trim(p, "+0123456789 -().") != "" || !strings.ContainsAny(p, "0123456789")) {
		errs = append(errs, fmt.Errorf("--support-phone: %q is not a phone number such as +1 800 555 5555", p))
	}
	return errs
}
