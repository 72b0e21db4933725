package hubspottest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

// BenchmarkUpsertParallel measures simulator throughput over real HTTP for
// single-input upserts into a growing portal.
func BenchmarkUpsertParallel(b *testing.B) {
	s := hubspottest.NewTestServer(b, hubspottest.Options{RateLimit: 1 << 30, RateWindow: time.Second})
	s.AddPortal(hubspottest.Portal{HubID: 1})
	at, _ := s.IssueTokens(1, 1, nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"inputs":[{"id":"b%d@x.test","idProperty":"email","properties":{"firstname":"B"}}]}`, n.Add(1))
			req, _ := http.NewRequest(http.MethodPost, s.URL()+upsertPath, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+at)
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}
