package ingest_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/internal/apptest"
)

// TestWebhookRateLimitPerSource: a source sending faster than its limit
// gets 429 with Retry-After, and another source is not slowed at all.
func TestWebhookRateLimitPerSource(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Configure: func(c *app.Config) { c.WebhookRate = 20 }})
	b := env.Install(1001, 501)
	noisy := b.CreateSource(1001, "Noisy")
	quiet := b.CreateSource(1001, "Quiet")

	var mu sync.Mutex
	codes := map[int]int{}
	retryAfter := ""
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				resp, err := http.Post(noisy.WebhookURL, "application/json",
					strings.NewReader(`{"email":"n`+itoa(int64(w*100+i))+`@example.com"}`))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				if resp.StatusCode == http.StatusTooManyRequests {
					retryAfter = resp.Header.Get("Retry-After")
				}
				mu.Unlock()
			}
		}(w)
	}
	// Meanwhile the quiet source sends at a normal pace: never refused.
	for i := 0; i < 10; i++ {
		status, body := apptest.Post(t, quiet.WebhookURL, "application/json", []byte(`{"email":"q`+itoa(int64(i))+`@example.com"}`))
		assert.Equal(t, http.StatusAccepted, status, string(body))
	}
	wg.Wait()
	t.Logf("noisy source: %v", codes)
	assert.Positive(t, codes[http.StatusTooManyRequests], "the noisy source is limited")
	assert.Positive(t, codes[http.StatusAccepted])
	assert.Equal(t, "1", retryAfter)
	assert.Equal(t, 200, codes[http.StatusAccepted]+codes[http.StatusTooManyRequests], "nothing else")
}
