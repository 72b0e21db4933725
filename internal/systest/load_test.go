package systest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// admin is a signed-in browser session against replica 0.
type admin struct {
	t    *testing.T
	c    *cluster
	http *http.Client
	at   int // the replica the API is called on
}

// installAll installs every portal as user through replica 0 and returns
// the signed-in session (the same user's installs share one workspace).
func (c *cluster) installAll(hubs []int64, user int64) *admin {
	c.t.Helper()
	jar, _ := cookiejar.New(nil)
	a := &admin{t: c.t, c: c, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	for _, hub := range hubs {
		c.sim.AutoApprove(hub, user)
		resp, err := a.http.Get(c.replicas[0].URL() + "/oauth/install")
		if err != nil {
			c.t.Fatalf("install %d: %v", hub, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Request.URL.Path != "/app/" {
			c.t.Fatalf("install %d ended at %s (%d): %s", hub, resp.Request.URL, resp.StatusCode, body)
		}
	}
	c.sim.AutoApprove(0, 0)
	return a
}

func (a *admin) csrf() string {
	u, _ := url.Parse(a.c.replicas[0].URL())
	for _, ck := range a.http.Jar.Cookies(u) {
		if ck.Name == "refhub_csrf" {
			return ck.Value
		}
	}
	return ""
}

// do calls the JSON API on replica a.at (0 unless changed).
func (a *admin) do(method, path string, in, out any) int {
	a.t.Helper()
	var body io.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, a.c.replicas[a.at].URL()+path, body)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-CSRF-Token", a.csrf())
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// source is a created source.
type source struct {
	ID    string `json:"id"`
	HubID int64  `json:"hub_id"`
	URL   string `json:"webhook_url"`
}

// createSources creates n sources spread over hubs.
func (a *admin) createSources(n int, hubs []int64) []source {
	out := make([]source, n)
	for i := range out {
		if st := a.do(http.MethodPost, fmt.Sprintf("/api/v1/portals/%d/sources", hubs[i%len(hubs)]),
			map[string]string{"name": fmt.Sprintf("source %d", i)}, &out[i]); st != http.StatusCreated {
			a.t.Fatalf("create source: %d", st)
		}
	}
	return out
}

// deadLetterEmails returns the emails of every dead letter of the sources.
func (a *admin) deadLetterEmails(srcs []source) map[string]string {
	out := map[string]string{}
	for _, s := range srcs {
		var dl struct {
			DeadLetters []struct {
				Email  string `json:"email"`
				Reason string `json:"reason"`
			} `json:"dead_letters"`
		}
		a.do(http.MethodGet, "/api/v1/sources/"+s.ID+"/dead-letters", nil, &dl)
		for _, d := range dl.DeadLetters {
			out[d.Email] = d.Reason
		}
	}
	return out
}

// signup is one webhook the load generator sent.
type signup struct {
	email    string
	hub      int64
	src      int
	accepted bool
}

// loadGen sends n signups spread over sources and replicas, retrying a
// failed request on the next replica (as a load balancer would) up to 3
// times. progress counts signups sent so far.
type loadGen struct {
	c        *cluster
	srcs     []source
	progress atomic.Int64
	client   *http.Client
}

func (c *cluster) loadGen(srcs []source) *loadGen {
	return &loadGen{c: c, srcs: srcs, client: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
}

// run sends n signups with the given concurrency and returns them.
func (g *loadGen) run(prefix string, n, concurrency int) []signup {
	out := make([]signup, n)
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				out[i] = g.send(prefix, i)
				g.progress.Add(1)
			}
		}()
	}
	wg.Wait()
	return out
}

func (g *loadGen) send(prefix string, i int) signup {
	si := i % len(g.srcs)
	src := g.srcs[si]
	s := signup{email: fmt.Sprintf("%s%d@example.com", prefix, i), hub: src.HubID, src: si}
	body := []byte(fmt.Sprintf(`{"email":%q,"first_name":"L%d","code":"C%d","url":"https://rf.example/r/C%d"}`, s.email, i, i, i))
	path := src.URL[strings.Index(src.URL, "/hooks/"):]
	for attempt := 0; attempt < 4; attempt++ {
		r := g.c.replicas[(i+attempt)%len(g.c.replicas)]
		resp, err := g.client.Post(r.URL()+path, "application/json", bytes.NewReader(body))
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
			s.accepted = true
			return s
		}
		time.Sleep(200 * time.Millisecond)
	}
	return s
}

// tally is the accounting of a scenario, signup by signup.
type tally struct {
	Sent, Accepted, Delivered, DeadLettered, Lost int
}

func (t tally) String() string {
	return fmt.Sprintf("sent %d, accepted %d, delivered %d, dead-lettered %d, lost %d",
		t.Sent, t.Accepted, t.Delivered, t.DeadLettered, t.Lost)
}

// account checks every accepted signup: in HubSpot, or dead-lettered.
func (a *admin) account(sim *hubspottest.Server, signups []signup, srcs []source) (tally, []string) {
	dead := a.deadLetterEmails(srcs)
	var t tally
	var lost []string
	for _, s := range signups {
		t.Sent++
		if !s.accepted {
			continue
		}
		t.Accepted++
		if _, ok := sim.ContactByEmail(s.hub, s.email); ok {
			t.Delivered++
		} else if _, ok := dead[s.email]; ok {
			t.DeadLettered++
		} else {
			t.Lost++
			lost = append(lost, s.email)
		}
	}
	return t, lost
}

// settle waits until every accepted signup is accounted for, or until
// nothing changed for quiet.
func (a *admin) settle(sim *hubspottest.Server, signups []signup, srcs []source, quiet, limit time.Duration) tally {
	a.t.Helper()
	start, lastChange := time.Now(), time.Now()
	var prev tally
	for {
		t, lost := a.account(sim, signups, srcs)
		if t.Lost == 0 {
			return t
		}
		if t != prev {
			prev, lastChange = t, time.Now()
		}
		if time.Since(lastChange) > quiet || time.Since(start) > limit {
			a.t.Errorf("signups still missing after %s: %s; e.g. %v", time.Since(start).Round(time.Second), t, head(lost, 5))
			return t
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// portals returns n simulator portals, all installable by user 501.
func portals(n int, first int64) ([]hubspottest.Portal, []int64) {
	var ps []hubspottest.Portal
	var hubs []int64
	for i := 0; i < n; i++ {
		hub := first + int64(i)
		ps = append(ps, hubspottest.Portal{HubID: hub, Domain: fmt.Sprintf("client-%d.hubspot.test", hub),
			Users: []hubspottest.User{{ID: 501, Email: "ops@agency.test"}}})
		hubs = append(hubs, hub)
	}
	return ps, hubs
}

var _ = apptest.Eventually
