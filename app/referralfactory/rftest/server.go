package rftest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Order is the order GET /users lists users in. Referral Factory does not
// document it, so a backfill must work with either.
type Order int

const (
	// OldestFirst lists users by ascending id: users who join during a
	// backfill land on later pages.
	OldestFirst Order = iota
	// NewestFirst lists users by descending id, as Referral Factory's own
	// dashboard shows them: users who join during a backfill push everyone
	// one place down.
	NewestFirst
)

// Options configures the simulator.
type Options struct {
	// Clock is the time source for rate windows, blocks and timestamps;
	// default time.Now.
	Clock func() time.Time
	// RateLimit calls per RateWindow per API token; defaults 600 per minute.
	RateLimit  int
	RateWindow time.Duration
	// AbuseLimit is how many rate windows with a 429 an IP may have before
	// the next one blocks it; default 3 ("more than three times").
	AbuseLimit int
	// BlockFor is how long a block lasts; default 7 days.
	BlockFor time.Duration
	// Order is the order of GET /users; default OldestFirst.
	Order Order
	// PublicBase is the base of users' referral links; default
	// "https://referral-factory.com".
	PublicBase string
	// WebhookClient sends outbound webhooks; default a 10 s timeout client.
	WebhookClient *http.Client
	// AllowHTTPWebhooks lets outbound webhooks go to http:// URLs, which
	// Referral Factory refuses (it requires https); for local tests.
	AllowHTTPWebhooks bool
	// Seed makes generated codes reproducible; tokens are always random.
	Seed uint64
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.RateLimit <= 0 {
		o.RateLimit = 600
	}
	if o.RateWindow <= 0 {
		o.RateWindow = time.Minute
	}
	if o.AbuseLimit <= 0 {
		o.AbuseLimit = 3
	}
	if o.BlockFor <= 0 {
		o.BlockFor = 7 * 24 * time.Hour
	}
	if o.PublicBase == "" {
		o.PublicBase = "https://referral-factory.com"
	}
	if o.WebhookClient == nil {
		o.WebhookClient = &http.Client{Timeout: 10 * time.Second}
	}
	return o
}

// Server is a simulated Referral Factory. All methods are safe for
// concurrent use.
type Server struct {
	opts    Options
	handler http.Handler

	mu          sync.Mutex
	url         string
	rng         *rand.Rand
	accounts    map[int64]*account
	apiTokens   map[string]int64 // active API token → account
	inbound     map[string]int64 // inbound webhook token → account
	campaigns   map[int64]*campaign
	users       []*user // ascending id
	byID        map[int64]*user
	codes       map[string]bool  // every code in use, coupons included
	byCode      map[string]*user // unique code or coupon → user
	emails      map[string]bool  // campaign id + lower-case email
	nextAccount int64
	nextCamp    int64
	nextUser    int64
	rate        rateState
	faults      []Fault
	log         []Request
	hooks       hookState
}

// New returns a simulator that is not listening anywhere; mount Handler or
// call ListenAndServe.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:        opts,
		rng:         rand.New(rand.NewPCG(opts.Seed, 0x7266)),
		accounts:    make(map[int64]*account),
		apiTokens:   make(map[string]int64),
		inbound:     make(map[string]int64),
		campaigns:   make(map[int64]*campaign),
		byID:        make(map[int64]*user),
		codes:       make(map[string]bool),
		byCode:      make(map[string]*user),
		emails:      make(map[string]bool),
		nextAccount: 1,
		nextCamp:    501,
		nextUser:    100001,
	}
	s.rate = newRateState()
	s.hooks.byCampaign = make(map[int64][]*hook)
	s.hooks.idle = sync.NewCond(&s.mu)
	s.handler = s.routes()
	return s
}

// NewTestServer starts the simulator on a 127.0.0.1 httptest server that is
// closed, after every outbound webhook has finished, when the test ends.
func NewTestServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s.handler)
	s.mu.Lock()
	s.url = ts.URL
	s.mu.Unlock()
	t.Cleanup(func() {
		s.Wait()
		ts.Close()
	})
	return s
}

// Handler returns the HTTP handler serving every simulated endpoint.
func (s *Server) Handler() http.Handler { return s.handler }

// URL returns the base URL (REFERRAL_FACTORY_BASE) once listening.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// APIBase returns the REST API base (REFERRAL_FACTORY_API_BASE).
func (s *Server) APIBase() string { return s.URL() + "/api/v2" }

// ListenAndServe serves on addr until ctx is done, then shuts down.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := s.Listen(addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Listen opens addr and sets URL from it (an unspecified address such as
// ":9191" becomes 127.0.0.1), so URLs can be printed before Serve.
func (s *Server) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("rftest: listen %s: %w", addr, err)
	}
	s.setURL(ln)
	return ln, nil
}

func (s *Server) setURL(ln net.Listener) {
	host := ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host = net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	s.mu.Lock()
	s.url = "http://" + host
	s.mu.Unlock()
}

// Serve serves on ln until ctx is done; it returns nil after a graceful
// shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.setURL(ln)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("rftest: serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("rftest: serve: %w", serr)
	}
	s.Wait()
	if err != nil {
		return fmt.Errorf("rftest: shutdown: %w", err)
	}
	return nil
}

func (s *Server) now() time.Time { return s.opts.Clock() }
