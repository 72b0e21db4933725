package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
)

// serveEnv makes the test binary act as `refhub serve` (the footprint
// section starts it as a child process).
const serveEnv = "REFHUB_BENCH_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		os.Exit(serve())
	}
	os.Exit(m.Run())
}

// serve is `refhub serve` as cmd/refhub runs it.
func serve() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := app.LoadConfig(app.OSEnv)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 2
	}
	a, err := app.New(cfg, app.Options{})
	if err == nil {
		err = a.Run(ctx)
	}
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	return 0
}

// TestQuickBench runs the whole bench with tiny numbers: every row is
// there, and what does not depend on the machine's speed holds.
func TestQuickBench(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not on PATH")
	}
	var log bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	rep, err := Run(ctx, Config{Quick: true, Serve: []string{os.Args[0]}, ServeEnv: []string{serveEnv + "=1"}, Log: &log})
	t.Logf("quick bench took %s", time.Since(start).Round(time.Millisecond))
	require.NoError(t, err, log.String())

	var text bytes.Buffer
	rep.WriteText(&text)
	t.Log("\n" + text.String())
	want := map[string]int{"Ingest": 6, "Delivery": 7, "Leads": 2, "Deals": 2, "Many portals": 2, "Token refresh": 1, "Footprint": 4}
	got := map[string]int{}
	for _, row := range rep.Rows {
		got[row.Section]++
		assert.NotEmpty(t, row.Refhub, row.Name)
		assert.NotContains(t, row.Refhub, "NaN", row.Name)
	}
	assert.Equal(t, want, got, "rows per section")

	assert.Equal(t, 1.0, rep.RefreshPerExpiry, "refresh calls per portal expiry")
	assert.Equal(t, 1, rep.RefreshMin)
	assert.Equal(t, 1, rep.RefreshMax)
	assert.Zero(t, rep.RateLimited, "HubSpot answered 429")
	assert.Zero(t, rep.Undelivered, "accepted signups not delivered")
	assert.Positive(t, rep.Delivered)

	md := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	require.NoError(t, os.WriteFile(md, []byte("# Title\n\nprose\n\n"+beginMarker+"\nold\n"+endMarker+"\n\nmore prose\n"), 0o644))
	require.NoError(t, rep.WriteMarkdown(md))
	raw, err := os.ReadFile(md)
	require.NoError(t, err)
	doc := string(raw)
	assert.Contains(t, doc, "prose\n")
	assert.Contains(t, doc, "more prose\n")
	assert.NotContains(t, doc, "\nold\n")
	assert.Contains(t, doc, "| Token refresh |")
	assert.Contains(t, doc, "nproc")
	assert.Equal(t, 1, strings.Count(doc, beginMarker))
}

func TestUnknownSection(t *testing.T) {
	_, err := Run(context.Background(), Config{Only: []string{"nope"}})
	assert.ErrorContains(t, err, `unknown section "nope"`)
}
