package pages_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

// BenchmarkHomePage: the workspace home of an agency with 25 portals (one
// page), each portal's reads (today's counts, queue, grants, 30 days of
// counts) one portal after another (reads=1) against workspace.PortalReads
// at a time, with Redis on loopback and behind 0.5 ms of network latency.
// Compare the two rows of each latency: the ratio is the gain.
func BenchmarkHomePage(b *testing.B) {
	for _, lat := range []time.Duration{0, 500 * time.Microsecond} {
		ropts := redistest.Options(b)
		if lat > 0 {
			ropts.Addr = latencyProxy(b, ropts.Addr, lat)
		}
		var portals []hubspottest.Portal
		for i := range 25 {
			portals = append(portals, hubspottest.Portal{HubID: int64(3000 + i), Domain: fmt.Sprintf("client%d.hubspot.test", i),
				Users: []hubspottest.User{{ID: 501, Email: "agency@example.com"}}})
		}
		env := apptest.Start(b, apptest.Options{Portals: portals, Redis: ropts})
		br := env.NewBrowser()
		for _, p := range portals {
			br.Install(p.HubID, 501)
		}
		for _, reads := range []int{1, workspace.PortalReads} {
			b.Run(fmt.Sprintf("latency=%s/reads=%d", lat, reads), func(b *testing.B) {
				defer func(n int) { workspace.PortalReads = n }(workspace.PortalReads)
				workspace.PortalReads = reads
				for b.Loop() {
					resp, err := br.Get(env.URL("/app/"))
					if err != nil {
						b.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "client24.hubspot.test") {
						b.Fatalf("home page: %d", resp.StatusCode)
					}
				}
			})
		}
	}
}

// latencyProxy forwards TCP connections to addr, holding each chunk the
// client sends for lat (a network between refhub and Redis), and returns
// its own address.
func latencyProxy(b *testing.B, addr string, lat time.Duration) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			go func() { _, _ = io.Copy(c, up); c.Close() }()
			go func() {
				defer up.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						time.Sleep(lat)
						if _, werr := up.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}
