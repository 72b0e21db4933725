package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/tenants"
)

// Logical databases of the bench's redis-server, one per use.
const (
	dbIngest    = 1
	dbBaseline  = 2
	dbDelivery  = 3
	dbPortals   = 4
	dbRefresh   = 5
	dbFootprint = 6
)

// ingestSide is one of the two servers the ingest runs compare.
type ingestSide struct {
	name  string
	reset func(ctx context.Context) (url string, err error) // empty store, ready to accept
	trips *roundTrips
}

// ingestRun is one load run against one side.
type ingestRun struct {
	res       loadResult
	trips     float64       // Redis round trips per accepted signup
	redisCPU  time.Duration // redis-server CPU per accepted signup
	procCPU   time.Duration // this process's CPU (server and generator) per accepted signup
	redisBusy float64       // redis-server CPU / wall time
	procBusy  float64       // this process's CPU / wall time
}

// ingest compares refhub's webhook endpoint (delivery off) with a bare
// net/http handler that does only the durable write, one XADD of the body.
func (e *env) ingest(ctx context.Context, rep *Report) error {
	a, err := e.startApp(dbIngest, 0)
	if err != nil {
		return err
	}
	defer a.close()
	base, err := e.startBaseline(dbBaseline)
	if err != nil {
		return err
	}
	defer base.close()
	sides := e.ingestSides(a, base)
	each := func(conns int, maxRate, profile bool) (runs [2]ingestRun, err error) {
		for i, side := range sides {
			if runs[i], err = e.ingestOnce(ctx, side, conns, maxRate, profile); err != nil {
				return runs, err
			}
		}
		return runs, nil
	}
	// Each kind of run: the two sides take turns, and each side's median
	// run counts, so that a burst of other work on the machine does not
	// decide the comparison.
	var constant, maxed [2][]ingestRun
	for range e.sz.constRounds {
		runs, err := each(e.sz.ingestConns, false, false)
		if err != nil {
			return err
		}
		constant[0], constant[1] = append(constant[0], runs[0]), append(constant[1], runs[1])
	}
	for round := range e.sz.ingestRounds {
		runs, err := each(e.sz.maxConns, true, round == 0)
		if err != nil {
			return err
		}
		maxed[0], maxed[1] = append(maxed[0], runs[0]), append(maxed[1], runs[1])
	}
	// The same at fewer connections: refhub's requests share round trips,
	// which costs a little latency, and in a closed loop latency is
	// throughput.
	fewer, err := each(e.sz.ingestConns, true, false)
	if err != nil {
		return err
	}
	p99 := func(r ingestRun) time.Duration { return r.res.p(0.99) }
	rate := func(r ingestRun) float64 { return r.res.rate() }
	e.ingestRows(rep, [2]ingestRun{medianBy(constant[0], p99), medianBy(constant[1], p99)}, [2]ingestRun{medianBy(maxed[0], rate), medianBy(maxed[1], rate)}, maxed)
	rep.add(Row{"Ingest", fmt.Sprintf("accepted signups/s at %d connections (one run each)", e.sz.ingestConns),
		fmt.Sprintf("%s/s (p50 %s)", thousands(fewer[0].res.rate()), ms(fewer[0].res.p(0.5))),
		fmt.Sprintf("%s/s (p50 %s)", thousands(fewer[1].res.rate()), ms(fewer[1].res.p(0.5))),
		ratio(fewer[0].res.rate(), fewer[1].res.rate()),
		"latency: with fewer requests in flight neither side fills the CPU; refhub's requests wait for the round trip in flight before theirs (group commit)"})
	return nil
}

// ingestSides are refhub (a fresh portal and source on an empty database
// for every run) and the baseline (an empty database).
func (e *env) ingestSides(a *benchApp, base *baseline) []ingestSide {
	refhub := ingestSide{name: "refhub", trips: a.trips, reset: func(ctx context.Context) (string, error) {
		if err := e.flush(ctx, dbIngest); err != nil {
			return "", err
		}
		ps, err := e.seed(ctx, a, e.newHubs(1), seedOpts{noSim: true})
		if err != nil {
			return "", err
		}
		return ps[0].url, nil
	}}
	baseline := ingestSide{name: "baseline", trips: base.trips, reset: func(ctx context.Context) (string, error) {
		return base.url, e.flush(ctx, dbBaseline)
	}}
	return []ingestSide{refhub, baseline}
}

// medianBy returns the run with the median key.
func medianBy[K cmp.Ordered](runs []ingestRun, key func(ingestRun) K) ingestRun {
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b ingestRun) int { return cmp.Compare(key(a), key(b)) })
	return sorted[len(sorted)/2]
}

// ingestOnce runs one measurement: constant rate, or maximum throughput.
func (e *env) ingestOnce(ctx context.Context, side ingestSide, conns int, maxRate, profile bool) (ingestRun, error) {
	url, err := side.reset(ctx)
	if err != nil {
		return ingestRun{}, err
	}
	g := newLoadGen(conns, fmt.Sprintf("ingest-%s-%d", side.name, time.Now().UnixNano()), url)
	defer g.close()
	g.closed(ctx, conns, e.sz.warmup) // connections, caches, scripts
	before, err := e.cpuSnapshot(ctx, side.trips)
	if err != nil {
		return ingestRun{}, err
	}
	var res loadResult
	if maxRate {
		stop := func() {}
		if profile {
			stop = e.profile(side.name)
		}
		res = g.closed(ctx, conns, e.sz.maxFor)
		stop()
	} else {
		res = g.constant(ctx, conns, e.sz.ingestRate, e.sz.ingestFor)
	}
	after, err := e.cpuSnapshot(ctx, side.trips)
	if err != nil {
		return ingestRun{}, err
	}
	run := ingestRun{res: res}
	if n := float64(res.accepted); n > 0 {
		run.trips = float64(after.trips-before.trips) / n
		run.redisCPU = time.Duration(float64(after.redis-before.redis) / n)
		run.procCPU = time.Duration(float64(after.proc-before.proc) / n)
	}
	run.redisBusy = float64(after.redis-before.redis) / float64(res.elapsed)
	run.procBusy = float64(after.proc-before.proc) / float64(res.elapsed)
	fmt.Fprintf(e.cfg.Log, "bench:   %s %s: %s/s accepted of %d sent, p50 %s, p99 %s, statuses %v, CPU busy %.2f + %.2f (redis)\n", side.name,
		map[bool]string{true: "max", false: "constant"}[maxRate], thousands(res.rate()), res.sent, ms(res.p(0.5)), ms(res.p(0.99)), res.statuses, run.procBusy, run.redisBusy)
	return run, nil
}

// profile starts a CPU profile of a max-throughput run if asked: refhub's
// into Config.CPUProfile, the baseline's beside it (".baseline").
func (e *env) profile(side string) func() {
	if e.cfg.CPUProfile == "" {
		return func() {}
	}
	path := e.cfg.CPUProfile
	if side != "refhub" {
		path += "." + side
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(e.cfg.Log, "bench: cpu profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

type cpuSnap struct {
	trips       int64
	redis, proc time.Duration
}

func (e *env) cpuSnapshot(ctx context.Context, trips *roundTrips) (cpuSnap, error) {
	info, err := e.redisInfo(ctx, "cpu", "used_cpu_sys", "used_cpu_user")
	if err != nil {
		return cpuSnap{}, err
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	proc := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	redisCPU := time.Duration((info["used_cpu_sys"] + info["used_cpu_user"]) * float64(time.Second))
	return cpuSnap{trips: trips.n.Load(), redis: redisCPU, proc: proc}, nil
}

func (e *env) ingestRows(rep *Report, c, m [2]ingestRun, all [2][]ingestRun) {
	sustained := func(r ingestRun) string {
		ok := r.res.accepted == r.res.sent && r.res.rate() >= 0.97*float64(e.sz.ingestRate)
		s := fmt.Sprintf("p50 %s, p99 %s, %s/s", ms(r.res.p(0.5)), ms(r.res.p(0.99)), thousands(r.res.rate()))
		if ok {
			return s + " (sustained)"
		}
		return s + " (NOT sustained)"
	}
	spread := func(runs []ingestRun) string {
		lo, hi := runs[0].res.rate(), runs[0].res.rate()
		for _, r := range runs {
			lo, hi = min(lo, r.res.rate()), max(hi, r.res.rate())
		}
		return fmt.Sprintf(" (median of %d runs, %s–%s)", len(runs), thousands(lo), thousands(hi))
	}
	rep.add(Row{"Ingest", fmt.Sprintf("constant %s signups/s for %s, %d connections (run with the median p99 of %d)", thousands(float64(e.sz.ingestRate)), e.sz.ingestFor, e.sz.ingestConns, e.sz.constRounds),
		sustained(c[0]), sustained(c[1]), fmt.Sprintf("p99 ×%.2f", ratioF(c[0].res.p(0.99), c[1].res.p(0.99))),
		"one Redis round trip plus handler CPU; the rate is far below either server's maximum"})
	rep.add(Row{"Ingest", fmt.Sprintf("maximum throughput, %d connections, %s per run: accepted signups/s", e.sz.maxConns, e.sz.maxFor),
		thousands(m[0].res.rate()) + "/s" + spread(all[0]), thousands(m[1].res.rate()) + "/s" + spread(all[1]), ratio(m[0].res.rate(), m[1].res.rate()),
		fmt.Sprintf("CPU: %d cores shared by the load generator, the server and redis-server (busy: %.2f / %.2f cores, of which redis-server %.2f / %.2f; the rest is other work on the machine and steal)",
			runtime.NumCPU(), m[0].procBusy+m[0].redisBusy, m[1].procBusy+m[1].redisBusy, m[0].redisBusy, m[1].redisBusy)})
	rep.add(Row{"Ingest", "latency at maximum throughput: p50 / p99",
		ms(m[0].res.p(0.5)) + " / " + ms(m[0].res.p(0.99)), ms(m[1].res.p(0.5)) + " / " + ms(m[1].res.p(0.99)),
		fmt.Sprintf("p50 ×%.2f", ratioF(m[0].res.p(0.5), m[1].res.p(0.5))), "queueing: every connection keeps one request in flight"})
	rep.add(Row{"Ingest", "Redis round trips per signup",
		fmt.Sprintf("%.2f", m[0].trips), fmt.Sprintf("%.2f", m[1].trips), ratio(m[0].trips, m[1].trips),
		"refhub: concurrent requests share a pipeline (group commit: one script per portal + the lanes' signals); a lone request takes one; the source is cached in memory"})
	rep.add(Row{"Ingest", "CPU per signup: this process (server + generator) / redis-server",
		us(m[0].procCPU) + " / " + us(m[0].redisCPU), us(m[1].procCPU) + " / " + us(m[1].redisCPU),
		fmt.Sprintf("%.2f / %.2f", ratioF(m[0].procCPU, m[1].procCPU), ratioF(m[0].redisCPU, m[1].redisCPU)),
		"refhub parses, maps, hashes and stores the event, its activity, dedupe marker and counters"})
	rep.ingestRate = m[0].res.rate()
	rep.ingestRatio = m[0].res.rate() / max(m[1].res.rate(), 1)
}

func ratioF(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/1e3) }

// baseline is the minimal webhook receiver refhub is measured against:
// read the body, XADD it to a stream, answer 202.
type baseline struct {
	url   string
	srv   *http.Server
	rdb   redis.UniversalClient
	trips *roundTrips
}

func (e *env) startBaseline(db int) (*baseline, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rdb, err := e.client(db) // the same client settings as refhub's
	if err != nil {
		return nil, err
	}
	b := &baseline{url: "http://" + ln.Addr().String() + "/hooks/referral-factory/" + tenants.NewSecret(), rdb: rdb, trips: &roundTrips{}}
	rdb.AddHook(b.trips)
	b.srv = &http.Server{Handler: http.HandlerFunc(b.serve), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *baseline) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	id, err := b.rdb.XAdd(r.Context(), &redis.XAddArgs{Stream: "bench:signups", Values: []any{"b", body}}).Result()
	if err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"id":"`+id+`","status":"queued"}`)
}

func (b *baseline) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx)
	_ = b.rdb.Close()
}
