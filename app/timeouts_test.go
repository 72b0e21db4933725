package app_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/internal/apptest"
)

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
