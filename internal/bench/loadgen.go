package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// signupEmail is the email of signup i of a run.
func signupEmail(prefix string, i int) string {
	return prefix + "-" + strconv.Itoa(i) + "@example.com"
}

// signupBody is signup i of a run as Referral Factory posts it ("A new
// referrer joins"): unique per run and index, so no two are duplicates.
func signupBody(prefix string, i int) []byte {
	n := strconv.Itoa(i)
	b := make([]byte, 0, 256)
	b = append(b, `{"first_name":"Bench`...)
	b = append(b, n...)
	b = append(b, `","last_name":"Referrer","email":"`...)
	b = append(b, signupEmail(prefix, i)...)
	b = append(b, `","referral_code":"`...)
	b = append(b, prefix+n...)
	b = append(b, `","referral_link":"https://rf.example/r/`...)
	b = append(b, prefix+n...)
	b = append(b, `","campaign_name":"Spring referral program","number_of_referrals":0}`...)
	return b
}

// loadGen posts signups over keep-alive connections: the same generator
// drives refhub and its baseline.
type loadGen struct {
	client  *http.Client
	urls    []string // signup i goes to urls[i % len(urls)]
	prefix  string
	keepIDs bool // decode the event id of each answer
	next    atomic.Int64
	body    func(i int) []byte // signup i's body (default signupBody)
}

func newLoadGen(conns int, prefix string, urls ...string) *loadGen {
	tr := &http.Transport{MaxIdleConns: 2 * conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		DisableCompression: true, IdleConnTimeout: time.Minute}
	return &loadGen{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, urls: urls, prefix: prefix}
}

func (g *loadGen) close() { g.client.CloseIdleConnections() }

// post sends signup i and returns the status and, if asked, the event id.
func (g *loadGen) post(ctx context.Context, i int) (int, string, error) {
	body := signupBody(g.prefix, i)
	if g.body != nil {
		body = g.body(i)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.urls[i%len(g.urls)], bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var id string
	if g.keepIDs {
		var v struct {
			ID string `json:"id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&v)
		id = v.ID
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, id, nil
}

// loadResult is what one run of the generator saw.
type loadResult struct {
	sent     int
	accepted int
	statuses map[int]int     // answers other than 202 Accepted; 0: transport error
	elapsed  time.Duration   // from the first send to the last answer
	lat      []time.Duration // of accepted requests, sorted
	ids      map[int]string  // signup index -> event id (keepIDs)
}

// rate is accepted signups per second.
func (r loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.accepted) / r.elapsed.Seconds()
}

func (r loadResult) p(q float64) time.Duration { return percentile(r.lat, q) }

// recorder collects the outcomes of one worker.
type recorder struct {
	lat      []time.Duration
	statuses map[int]int
	ids      map[int]string
	sent     int
}

func (g *loadGen) one(ctx context.Context, rec *recorder, i int, from time.Time) {
	status, id, err := g.post(ctx, i)
	d := time.Since(from)
	rec.sent++
	switch {
	case err != nil:
		rec.statuses[0]++
	case status != http.StatusAccepted:
		rec.statuses[status]++
	default:
		rec.lat = append(rec.lat, d)
		if g.keepIDs {
			rec.ids[i] = id
		}
	}
}

// workers runs conns workers until each returns, then merges what they saw.
func (g *loadGen) workers(conns int, work func(rec *recorder)) loadResult {
	recs := make([]*recorder, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range recs {
		recs[w] = &recorder{statuses: map[int]int{}, ids: map[int]string{}}
		wg.Add(1)
		go func() { defer wg.Done(); work(recs[w]) }()
	}
	wg.Wait()
	res := loadResult{statuses: map[int]int{}, ids: map[int]string{}, elapsed: time.Since(start)}
	for _, r := range recs {
		res.sent += r.sent
		res.accepted += len(r.lat)
		res.lat = append(res.lat, r.lat...)
		for k, v := range r.statuses {
			res.statuses[k] += v
		}
		for k, v := range r.ids {
			res.ids[k] = v
		}
	}
	slices.Sort(res.lat)
	return res
}

// closed keeps conns requests in flight for d and measures each from its
// send.
func (g *loadGen) closed(ctx context.Context, conns int, d time.Duration) loadResult {
	deadline := time.Now().Add(d)
	return g.workers(conns, func(rec *recorder) {
		for time.Now().Before(deadline) && ctx.Err() == nil {
			g.one(ctx, rec, int(g.next.Add(1)), time.Now())
		}
	})
}

// count sends n signups (indexes 0..n-1 of this generator) as fast as conns
// connections allow.
func (g *loadGen) count(ctx context.Context, conns, n int) loadResult {
	var k atomic.Int64
	return g.workers(conns, func(rec *recorder) {
		for ctx.Err() == nil {
			i := int(k.Add(1)) - 1
			if i >= n {
				return
			}
			g.one(ctx, rec, i, time.Now())
		}
	})
}

// constant sends rate signups per second for d on a fixed schedule (open
// loop) and measures each from the time it was due, so a server that falls
// behind shows it in its latency instead of slowing the generator.
func (g *loadGen) constant(ctx context.Context, conns, rate int, d time.Duration) loadResult {
	n := int(float64(rate) * d.Seconds())
	due := make(chan time.Time, n)
	start := time.Now().Add(2 * time.Millisecond)
	go func() {
		defer close(due)
		every := time.Second / time.Duration(rate)
		for k := 0; k < n && ctx.Err() == nil; k++ {
			at := start.Add(time.Duration(k) * every)
			if w := time.Until(at); w > 0 {
				time.Sleep(w)
			}
			due <- at
		}
	}()
	res := g.workers(conns, func(rec *recorder) {
		for at := range due {
			g.one(ctx, rec, int(g.next.Add(1)), at)
		}
	})
	res.elapsed = time.Since(start)
	return res
}

// percentile returns the q-quantile (0..1) of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
