// Package redistest runs real redis-server processes for tests: one private
// server per test package (started on first use on a free loopback port),
// with a fresh logical database per test, or dedicated servers a test can
// restart or kill. Set REFHUB_TEST_REDIS_URL to use an existing server that
// is dedicated to tests instead (run the packages with -p 1 then).
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// databases is how many logical databases the package server offers; each
// test takes the next one and flushes it first.
const databases = 64

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
	nextDB     atomic.Int64
)

// Main runs the package's tests and stops the package server afterwards.
// Use it as: func TestMain(m *testing.M) { redistest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	os.Exit(code)
}

// Client returns a client on a fresh, empty logical database of the package
// server, closed when the test ends.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	opts := Options(t)
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("redistest: flush db %d: %v", opts.DB, err)
	}
	return c
}

// Options returns connection options for a fresh logical database of the
// package server (for code under test that builds its own client).
func Options(t testing.TB) *redis.Options {
	t.Helper()
	if url := os.Getenv("REFHUB_TEST_REDIS_URL"); url != "" {
		opts, err := redis.ParseURL(url)
		if err != nil {
			t.Fatalf("redistest: REFHUB_TEST_REDIS_URL: %v", err)
		}
		return opts
	}
	sharedOnce.Do(func() { shared, sharedErr = Start(StartOptions{}) })
	if sharedErr != nil {
		t.Fatalf("redistest: %v", sharedErr)
	}
	db := int(nextDB.Add(1) % databases)
	return &redis.Options{Addr: shared.Addr, DB: db}
}

// StartOptions configures a dedicated server.
type StartOptions struct {
	AppendOnly bool     // appendonly yes (appendfsync everysec unless Args say otherwise)
	Args       []string // extra redis-server arguments
	Port       int      // 0: a free port
}

// Server is a redis-server process.
type Server struct {
	Addr string
	Dir  string
	opts StartOptions
	cmd  *exec.Cmd
	mu   sync.Mutex
}

// Start launches redis-server and waits until it answers PING.
func Start(opts StartOptions) (*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("redis-server not found on PATH (the test command installs it: scripts/test): %w", err)
	}
	dir, err := os.MkdirTemp("", "refhub-redis-*")
	if err != nil {
		return nil, err
	}
	if opts.Port == 0 {
		if opts.Port, err = freePort(); err != nil {
			return nil, err
		}
	}
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(opts.Port), Dir: dir, opts: opts}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// StartT starts a dedicated server that is removed when the test ends.
func StartT(t testing.TB, opts StartOptions) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	args := []string{
		"--port", strconv.Itoa(s.opts.Port), "--bind", "127.0.0.1", "--save", "",
		"--dir", s.Dir, "--databases", strconv.Itoa(databases), "--protected-mode", "no",
		"--logfile", filepath.Join(s.Dir, "redis.log"),
	}
	if s.opts.AppendOnly {
		args = append(args, "--appendonly", "yes")
	} else {
		args = append(args, "--appendonly", "no")
	}
	args = append(args, s.opts.Args...)
	cmd := exec.Command("redis-server", args...)
	// Die with the test binary, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait() }()
	return waitReady(s.Addr, 10*time.Second)
}

// Client returns a new client for database 0 of this server.
func (s *Server) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Addr})
}

// Kill stops the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		s.waitGone()
	}
}

// Restart kills the server and starts it again on the same port and data
// directory (so an append-only file is reloaded).
func (s *Server) Restart() error {
	s.Kill()
	return s.start()
}

// Close kills the server and removes its data directory.
func (s *Server) Close() {
	s.Kill()
	_ = os.RemoveAll(s.Dir)
}

func (s *Server) waitGone() {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
		if err != nil {
			return
		}
		_ = c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

func waitReady(addr string, timeout time.Duration) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s not ready after %s: %w", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
