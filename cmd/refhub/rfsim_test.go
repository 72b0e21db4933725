package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

// TestRFSimServesDemoUsersAndQualifies: `refhub rf-sim` prints a token and
// an inbound URL that work: the API pages through both campaigns' users,
// the printed qualify command qualifies its lead, and the joins and the
// qualification go out to the --webhook-url with the custom header.
func TestRFSimServesDemoUsersAndQualifies(t *testing.T) {
	var mu sync.Mutex
	var hooks []map[string]any
	var secrets []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		hooks = append(hooks, m)
		secrets = append(secrets, r.Header.Get("X-Refhub-Secret"))
		mu.Unlock()
	}))
	defer receiver.Close()

	port := redistest.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut apptest.SyncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"rf-sim", "--addr", "127.0.0.1:" + strconv.Itoa(port), "--referrers", "4", "--leads", "2",
			"--webhook-url", receiver.URL + "/hooks/referral-factory/tok", "--webhook-header", "X-Refhub-Secret: s3"}, &out, &errOut)
	}()
	defer func() {
		cancel()
		assert.Equal(t, 0, <-done, errOut.String())
	}()
	m := waitFor(t, &out, regexp.MustCompile(`REFERRAL_FACTORY_API_BASE=(\S+) REFERRAL_FACTORY_BASE=(\S+)`))
	apiBase, base := m[1], m[2]
	token := waitFor(t, &out, regexp.MustCompile(`API token \(account \d+\): (\S+)`))[1]
	q := waitFor(t, &out, regexp.MustCompile(`curl -sS -X POST '(\S+)' -d 'code=(\S+)'`))
	assert.Contains(t, out.String(), "outbound webhooks: 28 sent, 28 answered 2xx", "24 joins and every third lead of 8 per campaign qualified")

	c, err := referralfactory.New(referralfactory.Config{APIBase: apiBase, Base: base})
	require.NoError(t, err)
	var users []referralfactory.User
	for page := 1; ; page++ {
		p, err := c.Account(token).Users(context.Background(), page, 10)
		require.NoError(t, err)
		users = append(users, p.Users...)
		if !p.HasNext() {
			break
		}
	}
	assert.Len(t, users, 24, "two campaigns of 4 referrers with 2 leads each")

	require.NoError(t, c.Qualify(context.Background(), q[1], q[2]))
	u, err := c.Account(token).User(context.Background(), q[2])
	require.NoError(t, err)
	assert.True(t, u.Qualified())

	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(hooks) == 29 }, 5*time.Second, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, q[2], hooks[28]["code"], "the qualification went out too")
	assert.NotNil(t, hooks[28]["qualified_at"])
	for _, s := range secrets {
		assert.Equal(t, "s3", s)
	}
}

func TestRFSimHelpAndBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"--help"}, &out, &errOut))
	assert.Contains(t, out.String(), "refhub rf-sim")
	errOut.Reset()
	assert.Equal(t, 1, run(context.Background(), []string{"rf-sim", "--webhook-header", "nocolon"}, io.Discard, &errOut))
	assert.True(t, strings.Contains(errOut.String(), "Name: value"), errOut.String())
	assert.Equal(t, 1, run(context.Background(), []string{"rf-sim", "--referrers", "-1"}, io.Discard, &errOut))
}
