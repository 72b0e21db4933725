// Package bench is `refhub bench`: it measures refhub beside a baseline on
// the same machine, the same redis-server and the same load generator, and
// reports a table. Ingest is compared with a bare net/http handler that does
// only the durable Redis write; delivery with the ceiling HubSpot's rate
// limit allows and with a one-upsert-per-signup integration; then many
// portals, token refresh across replicas, and memory footprint.
//
// Everything runs in one process against a private redis-server and the
// in-process HubSpot simulator over loopback HTTP, except the footprint,
// which starts a real `refhub serve` process.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// Sections, in the order they run.
var Sections = []string{"ingest", "delivery", "leads", "deals", "portals", "refresh", "footprint"}

// Config says what to run and where the results go.
type Config struct {
	Quick      bool      // tiny numbers: a smoke run of seconds
	Only       []string  // sections to run (default: all)
	Serve      []string  // command that runs `refhub serve` (footprint)
	ServeEnv   []string  // extra environment for Serve
	Log        io.Writer // progress (default: discarded)
	CPUProfile string    // write CPU profiles of the ingest max-throughput runs here (refhub) and here.baseline
}

// sizes are the numbers a run uses; Quick shrinks them.
type sizes struct {
	ingestConns  int           // load generator connections
	maxConns     int           // connections of the maximum-throughput runs
	ingestRate   int           // constant-rate run, signups/s
	ingestFor    time.Duration // length of each constant-rate ingest run
	constRounds  int           // constant-rate runs per side, taking turns
	maxFor       time.Duration // length of each maximum-throughput run
	ingestRounds int           // maximum-throughput runs per side, taking turns
	warmup       time.Duration // discarded start of each ingest run
	window       time.Duration // HubSpot's rate-limit window (10 s)
	simLimit     int           // HubSpot's calls per window and portal (110)
	limit        int           // refhub's calls per window and portal (100)
	backlog      float64       // signups per policy run, in windows of the policy's ceiling
	singleN      int           // signups of the one-upsert-per-signup baseline
	leadN        int           // leads of the leads run
	leadRefs     int           // referrers they name
	leadSingleN  int           // leads of the one-lead-at-a-time baseline
	trickleN     int           // signups sent one at a time for latency
	trickleEvery time.Duration // (1 s)
	portals      int           // many-portals run
	perPortal    int
	refreshHubs  int // portals whose tokens all need a refresh
	refreshConc  int // goroutines per replica
	fpPortals    int // portals configured for the footprint
	fpSignups    int // signups queued for the footprint
	fpLanes      int // portals those signups go to
	idleFor      time.Duration
}

func fullSizes() sizes {
	return sizes{ingestConns: 64, maxConns: 128, ingestRate: 2000, ingestFor: 2 * time.Second, constRounds: 3, maxFor: 2 * time.Second, ingestRounds: 5, warmup: 500 * time.Millisecond,
		window: 10 * time.Second, simLimit: 110, limit: 100, backlog: 2.5, singleN: 300,
		leadN: 10000, leadRefs: 200, leadSingleN: 30,
		trickleN: 30, trickleEvery: time.Second, portals: 1000, perPortal: 20,
		refreshHubs: 200, refreshConc: 100, fpPortals: 10000, fpSignups: 10000, fpLanes: 100, idleFor: 3 * time.Second}
}

func quickSizes() sizes {
	return sizes{ingestConns: 8, maxConns: 16, ingestRate: 200, ingestFor: 500 * time.Millisecond, constRounds: 1, maxFor: 300 * time.Millisecond, ingestRounds: 1, warmup: 100 * time.Millisecond,
		// A 1-second window leaves the limiter less room for jitter
		// between taking a slot and reaching HubSpot: more headroom.
		window: time.Second, simLimit: 12, limit: 10, backlog: 2.5, singleN: 25,
		leadN: 300, leadRefs: 20, leadSingleN: 3,
		trickleN: 3, trickleEvery: 200 * time.Millisecond, portals: 20, perPortal: 5,
		refreshHubs: 10, refreshConc: 10, fpPortals: 100, fpSignups: 200, fpLanes: 10, idleFor: 300 * time.Millisecond}
}

// ErrNoRedis means redis-server is not on PATH.
var ErrNoRedis = errors.New("refhub bench needs redis-server on PATH (e.g. apt-get install redis-server, or run scripts/test once): it starts a private one on a free port")

// Run runs the benchmark and returns its report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	// Apps, the serve process's output and the bench itself all log here.
	cfg.Log = &lockedWriter{w: cfg.Log}
	for _, s := range cfg.Only {
		if !slices.Contains(Sections, s) {
			return nil, fmt.Errorf("unknown section %q (have %s)", s, strings.Join(Sections, ", "))
		}
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, ErrNoRedis
	}
	sz := fullSizes()
	if cfg.Quick {
		sz = quickSizes()
	}
	rep := &Report{Started: time.Now(), Quick: cfg.Quick}
	e, err := startEnv(ctx, cfg, sz)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rep.Machine = describeMachine(ctx)
	runs := map[string]func(context.Context, *Report) error{
		"ingest": e.ingest, "delivery": e.delivery, "leads": e.leads, "deals": e.deals, "portals": e.manyPortals,
		"refresh": e.refresh, "footprint": e.footprint,
	}
	for _, name := range Sections {
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, name) {
			continue
		}
		start := time.Now()
		fmt.Fprintf(cfg.Log, "bench: %s …\n", name)
		if err := runs[name](ctx, rep); err != nil {
			return rep, fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(cfg.Log, "bench: %s done in %s\n", name, time.Since(start).Round(100*time.Millisecond))
	}
	rep.Took = time.Since(rep.Started)
	rep.check()
	return rep, nil
}

// lockedWriter serializes writes from many goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
