package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// refresh has two replicas (two refhub Apps on the same Redis, each with
// its own token cache) ask for the tokens of many portals at once, from
// many goroutines each, while every stored token is inside the refresh
// window: each portal's token must be refreshed exactly once.
func (e *env) refresh(ctx context.Context, rep *Report) error {
	if err := e.flush(ctx, dbRefresh); err != nil {
		return err
	}
	replicas := make([]*benchApp, 2)
	for i := range replicas {
		a, err := e.startApp(dbRefresh, 0)
		if err != nil {
			return err
		}
		defer a.close()
		replicas[i] = a
	}
	// Stored tokens expire in 2 minutes: inside refhub's 5-minute margin.
	ps, err := e.seed(ctx, replicas[0], e.newHubs(e.sz.refreshHubs), seedOpts{tokenTTL: 2 * time.Minute})
	if err != nil {
		return err
	}
	before := make([]int, len(ps))
	for i, p := range ps {
		before[i] = e.sim.TokenGrants(p.hub, "refresh_token")
	}
	seen, errs, took := e.askTokens(ctx, replicas, ps)
	if errs > 0 {
		return fmt.Errorf("%d token requests failed", errs)
	}
	total, stale := 0, 0
	rep.RefreshMin, rep.RefreshMax = 1<<30, 0
	for i, p := range ps {
		n := e.sim.TokenGrants(p.hub, "refresh_token") - before[i]
		total += n
		rep.RefreshMin, rep.RefreshMax = min(rep.RefreshMin, n), max(rep.RefreshMax, n)
		if len(seen[i]) != 1 || seen[i][p.access] {
			stale++ // callers got different tokens, or the old one
		}
	}
	rep.RefreshPerExpiry = float64(total) / float64(len(ps))
	asks := len(replicas) * e.sz.refreshConc * len(ps)
	rep.add(Row{"Token refresh", fmt.Sprintf("refresh calls per portal expiry: 2 replicas × %d goroutines × %d portals (%s token requests)",
		e.sz.refreshConc, len(ps), thousands(float64(asks))),
		fmt.Sprintf("%.2f (min %d, max %d; %d portals where callers saw the old or differing tokens; %s)", rep.RefreshPerExpiry, rep.RefreshMin, rep.RefreshMax, stale, ms(took)),
		"1.00 exactly", ratio(rep.RefreshPerExpiry, 1),
		"singleflight within a replica, a Redis lock per portal across replicas; the others read the stored result"})
	if stale > 0 {
		rep.RefreshMax = max(rep.RefreshMax, 2) // fails the target
	}
	return nil
}

// askTokens runs the concurrent token requests and returns, per portal,
// the distinct tokens handed out.
func (e *env) askTokens(ctx context.Context, replicas []*benchApp, ps []portal) ([]map[string]bool, int, time.Duration) {
	seen := make([]map[string]bool, len(ps))
	for i := range seen {
		seen[i] = map[string]bool{}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := 0
	start := time.Now()
	for _, a := range replicas {
		for range e.sz.refreshConc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, k := range rand.Perm(len(ps)) {
					tok, err := a.Tokens().AccessToken(ctx, ps[k].hub)
					mu.Lock()
					if err != nil {
						errs++
					} else {
						seen[k][tok] = true
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	return seen, errs, time.Since(start)
}
