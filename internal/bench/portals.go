package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/hubspot/hubspottest"
)

// workers is refhub's default number of lanes one process works at once.
const workers = 16

// manyPortals queues a few signups for each of many portals with delivery
// stopped, then starts delivery and measures how long it takes to deliver
// them all and how long the last portal waited.
func (e *env) manyPortals(ctx context.Context, rep *Report) error {
	if err := e.flush(ctx, dbPortals); err != nil {
		return err
	}
	a, err := e.startApp(dbPortals, workers)
	if err != nil {
		return err
	}
	defer a.close()
	ps, err := e.seed(ctx, a, e.newHubs(e.sz.portals), seedOpts{})
	if err != nil {
		return err
	}
	urls := make([]string, len(ps))
	inRun := map[int64]bool{}
	for i, p := range ps {
		urls[i], inRun[p.hub] = p.url, true
	}
	total := len(ps) * e.sz.perPortal
	g := newLoadGen(e.sz.ingestConns, fmt.Sprintf("many-%d", ps[0].hub), urls...)
	g.keepIDs = true
	defer g.close()
	res := g.count(ctx, e.sz.ingestConns, total)
	if res.accepted != total {
		return fmt.Errorf("%d of %d signups accepted (%v)", res.accepted, total, res.statuses)
	}
	before, err := e.cpuSnapshot(ctx, a.trips)
	if err != nil {
		return err
	}
	t0 := time.Now()
	a.startWorkers()
	err = waitUntil(ctx, 5*time.Minute, func() (bool, error) { return e.upserted(inRun, t0) >= total, nil })
	took := time.Since(t0)
	a.stopWorkers()
	if err != nil {
		return fmt.Errorf("%d of %d contacts in HubSpot: %w", e.upserted(inRun, t0), total, err)
	}
	after, err := e.cpuSnapshot(ctx, a.trips)
	if err != nil {
		return err
	}
	cpu := portalCPU{cores: float64(after.proc-before.proc+after.redis-before.redis) / float64(took),
		perPortal: (after.proc - before.proc + after.redis - before.redis) / time.Duration(len(ps))}
	return e.portalRows(ctx, rep, a, ps, res.ids, t0, cpu)
}

// portalCPU is the CPU the delivery of the many portals took: this process
// (refhub and the simulator) and redis-server.
type portalCPU struct {
	cores     float64       // average cores busy
	perPortal time.Duration // CPU per portal's round
}

// upserted counts the contacts written by successful batch upserts to the
// portals since t0.
func (e *env) upserted(hubs map[int64]bool, t0 time.Time) int {
	n := 0
	e.sim.Count(func(r hubspottest.Request) bool {
		if hubs[r.HubID] && r.Endpoint == "contacts.batch.upsert" && r.Status == http.StatusOK && !r.Time.Before(t0) {
			n += r.Inputs
		}
		return false
	})
	return n
}

func (e *env) portalRows(ctx context.Context, rep *Report, a *benchApp, ps []portal, ids map[int]string, t0 time.Time, cpu portalCPU) error {
	byHub := make([]map[int]string, len(ps))
	for i := range byHub {
		byHub[i] = map[int]string{}
	}
	for i, id := range ids {
		byHub[i%len(ps)][i] = id
	}
	var waits []time.Duration
	var last time.Time
	calls := map[string]int{}
	for i, p := range ps {
		evs, err := e.settle(ctx, rep, a, p.hub, byHub[i], time.Minute)
		if err != nil {
			return err
		}
		waits = append(waits, portalWait(evs, t0))
		for _, ev := range evs {
			if ev.DeliveredAt != nil && ev.DeliveredAt.After(last) {
				last = *ev.DeliveredAt
			}
		}
		c, _, limited := e.hubCalls(p.hub, t0)
		rep.RateLimited += limited
		for k, v := range c {
			calls[k] += v
		}
	}
	slices.Sort(waits)
	took := last.Sub(t0)
	batch := scrapeMean(a.URL+"/metrics", "refhub_delivery_batch_seconds")
	cores := runtime.NumCPU()
	bound := cpu.perPortal * time.Duration(len(ps)) / time.Duration(cores)
	n := len(ps) * e.sz.perPortal
	rep.add(Row{"Many portals", fmt.Sprintf("%s portals × %d signups, queued, then delivery started: time to deliver all %s", thousands(float64(len(ps))), e.sz.perPortal, thousands(float64(n))),
		fmt.Sprintf("%s (%s contacts/s; HubSpot calls: %s)", ms(took), thousands(float64(n)/took.Seconds()), callList(calls)),
		fmt.Sprintf("bound: %s (CPU: %s per portal on %d cores); the rate limit allows every portal's 2 calls at once", ms(bound), ms(cpu.perPortal), cores),
		ratio(bound.Seconds(), took.Seconds()),
		fmt.Sprintf("CPU (%.1f of %d cores busy: refhub, the simulator in the same process, redis-server); a portal's first round reads its property list (then cached 10 min) and sends one batch (%s mean); with HubSpot's real latency the bound becomes %d workers × call time", cpu.cores, cores, ms(batch), workers)})
	rep.add(Row{"Many portals", "longest any portal waited (delivery start → its last contact); median portal",
		ms(waits[len(waits)-1]) + "; median " + ms(percentile(waits, 0.5)), "—", "—",
		"fair rotation over due lanes: the last portal waits for the rounds of all the others"})
	return nil
}

// portalWait is how long a portal's events waited: from when they were
// queued (or delivery started, if later) until the last was delivered.
func portalWait(evs []queue.Event, t0 time.Time) time.Duration {
	var w time.Duration
	for _, ev := range evs {
		if ev.DeliveredAt == nil {
			continue
		}
		from := ev.ReceivedAt
		if from.Before(t0) {
			from = t0
		}
		w = max(w, ev.DeliveredAt.Sub(from))
	}
	return w
}

// scrapeMean reads a Prometheus histogram's mean from a /metrics page.
func scrapeMean(url, name string) time.Duration {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		if err == nil {
			resp.Body.Close()
		}
		return 0
	}
	defer resp.Body.Close()
	var sum, count float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			continue
		}
		switch k {
		case name + "_sum":
			sum = f
		case name + "_count":
			count = f
		}
	}
	if count == 0 {
		return 0
	}
	return time.Duration(sum / count * float64(time.Second))
}
