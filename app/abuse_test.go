package app_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// TestSlowClientsAreCutOff: headers or a body trickled byte by byte do not
// hold a connection beyond the server's timeouts.
func TestSlowClientsAreCutOff(t *testing.T) {
	env := apptest.Start(t, apptest.Options{AppOpts: app.Options{Timeouts: app.Timeouts{ReadHeader: 500 * time.Millisecond, Read: time.Second}}})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	path := src.WebhookURL[len(env.URL("")):]
	addr := env.Server.Listener.Addr().String()

	t.Run("trickled headers", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer conn.Close()
		start := time.Now()
		closed := trickle(conn, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n", 200*time.Millisecond)
		assert.True(t, closed, "the server hung up")
		assert.Less(t, time.Since(start), 3*time.Second)
	})
	t.Run("trickled body", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer conn.Close()
		body := `{"email":"slow@example.com","first_name":"` + strings.Repeat("x", 200) + `"}`
		_, err = conn.Write([]byte("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
			itoa(int64(len(body))) + "\r\n\r\n"))
		require.NoError(t, err)
		start := time.Now()
		closed := trickle(conn, body, 100*time.Millisecond)
		assert.True(t, closed, "the server gave up on the body")
		assert.Less(t, time.Since(start), 4*time.Second)
		depth, _ := env.App.Queue().Depth(t.Context(), 1001)
		assert.Zero(t, depth, "nothing half-received is queued")
	})
}

// trickle writes s a byte at a time and reports whether the server closed
// the connection (or answered and closed) before the end.
func trickle(conn net.Conn, s string, every time.Duration) bool {
	go func() {
		for i := 0; i < len(s); i++ {
			if _, err := conn.Write([]byte{s[i]}); err != nil {
				return
			}
			time.Sleep(every)
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(time.Duration(len(s)) * every))
	r := bufio.NewReader(conn)
	for {
		if _, err := r.ReadByte(); err != nil {
			ne, ok := err.(net.Error)
			return !(ok && ne.Timeout())
		}
	}
}
