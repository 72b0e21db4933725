package hubspottest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// DefaultRequiredScopes returns the scopes an app requires when
// Options.RequiredScopes is nil: oauth plus contact object and schema
// read/write.
func DefaultRequiredScopes() []string {
	return []string{
		"oauth",
		"crm.objects.contacts.read",
		"crm.objects.contacts.write",
		"crm.schemas.contacts.read",
		"crm.schemas.contacts.write",
	}
}

// Options configures a simulated HubSpot app and platform.
type Options struct {
	// ClientID and ClientSecret identify the app; defaults "test-client-id"
	// and "test-client-secret".
	ClientID, ClientSecret string
	// AppID is reported by introspection; default 4242.
	AppID int64
	// RedirectURIs are the exact redirect URIs the app allows; empty allows none.
	RedirectURIs []string
	// RequiredScopes must all appear in an authorize request's scope; nil
	// means DefaultRequiredScopes() (an empty non-nil slice requires none).
	// OptionalScopes may appear in scope or optional_scope; nothing else may.
	RequiredScopes, OptionalScopes []string
	// TokenTTL is the access token lifetime; default 30 minutes.
	TokenTTL time.Duration
	// RateLimit requests per RateWindow per portal; defaults 110 per 10s.
	RateLimit  int
	RateWindow time.Duration
	// RotateRefreshTokens makes every refresh return a new refresh token and
	// revoke the old one immediately.
	RotateRefreshTokens bool
	// Clock is the time source for expiry, rate windows and timestamps;
	// default time.Now.
	Clock func() time.Time
}

func (o Options) withDefaults() Options {
	if o.ClientID == "" {
		o.ClientID = "test-client-id"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "test-client-secret"
	}
	if o.AppID == 0 {
		o.AppID = 4242
	}
	if o.RequiredScopes == nil {
		o.RequiredScopes = DefaultRequiredScopes()
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 30 * time.Minute
	}
	if o.RateLimit <= 0 {
		o.RateLimit = 110
	}
	if o.RateWindow <= 0 {
		o.RateWindow = 10 * time.Second
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	o.RequiredScopes = append([]string(nil), o.RequiredScopes...)
	o.RedirectURIs = append([]string(nil), o.RedirectURIs...)
	o.OptionalScopes = append([]string(nil), o.OptionalScopes...)
	return o
}

// Server is a simulated HubSpot platform for one app. All methods are safe
// for concurrent use.
type Server struct {
	opts    Options
	handler http.Handler
	stop    chan struct{}
	stopped sync.Once

	mu            sync.Mutex
	url           string
	portals       map[int64]*portal
	portalOrder   []int64
	access        map[string]*accessToken
	refresh       map[string]*refreshToken
	codes         map[string]*authCode
	consents      map[string]*consentRequest
	autoHub       int64
	autoUser      int64
	autoDeny      bool
	rateMax       int
	rateWindow    time.Duration
	tokenTTL      time.Duration
	faults        Faults
	rng           *rand.Rand
	log           []Request
	inFlight      map[*exchange]Request
	grants        map[grantKey]int
	nextContactID int64
	hooks         webhookState
}

// New returns a ready-to-serve simulator that is not listening anywhere;
// mount Handler or call ListenAndServe.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:          opts,
		stop:          make(chan struct{}),
		portals:       make(map[int64]*portal),
		access:        make(map[string]*accessToken),
		refresh:       make(map[string]*refreshToken),
		codes:         make(map[string]*authCode),
		consents:      make(map[string]*consentRequest),
		rateMax:       opts.RateLimit,
		rateWindow:    opts.RateWindow,
		tokenTTL:      opts.TokenTTL,
		rng:           rand.New(rand.NewPCG(0, 0)),
		grants:        make(map[grantKey]int),
		inFlight:      make(map[*exchange]Request),
		nextContactID: 10000,
	}
	s.faults = Faults{Statuses: []int{http.StatusInternalServerError}}
	s.hooks.rng = rand.New(rand.NewPCG(1, 0x600c))
	s.handler = s.routes()
	return s
}

// NewTestServer starts the simulator on a 127.0.0.1 httptest server that is
// closed (releasing any hanging requests first) when the test ends.
func NewTestServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s.handler)
	s.mu.Lock()
	s.url = ts.URL
	s.mu.Unlock()
	t.Cleanup(func() {
		s.shutdown()
		ts.Close()
	})
	return s
}

// Handler returns the HTTP handler serving every simulated endpoint.
func (s *Server) Handler() http.Handler { return s.handler }

// URL returns the base URL once the server listens, "" otherwise.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// ListenAndServe serves on addr until ctx is done, then shuts down
// gracefully. It returns nil after a graceful shutdown. A Server can be
// served only once this way.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("hubspottest: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, like ListenAndServe.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var err error
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.url = "http://" + ln.Addr().String()
	s.mu.Unlock()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("hubspottest: serve: %w", err)
	case <-ctx.Done():
	}
	s.shutdown()
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("hubspottest: serve: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("hubspottest: shutdown: %w", err)
	}
	return nil
}

// shutdown releases requests held by Latency or HangRate faults.
func (s *Server) shutdown() { s.stopped.Do(func() { close(s.stop) }) }

func (s *Server) now() time.Time { return s.opts.Clock() }

// SetRateLimit changes the per-portal rolling window at runtime.
func (s *Server) SetRateLimit(max int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateMax = max
	s.rateWindow = window
}

// SetTokenTTL changes the lifetime of access tokens issued from now on
// (tokens already issued keep theirs).
func (s *Server) SetTokenTTL(ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenTTL = ttl
}

// AutoApprove makes every valid GET /oauth/authorize redirect at once with a
// code for that portal and user, until cleared with AutoApprove(0, 0).
func (s *Server) AutoApprove(hubID, userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoHub, s.autoUser = hubID, userID
}

// AutoDeny makes every valid GET /oauth/authorize redirect at once with
// error=access_denied while on. It takes precedence over AutoApprove.
func (s *Server) AutoDeny(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoDeny = on
}
