package rftest

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBurstLimitAnswers429WithRetryAfterUntilTheWindowEnds(t *testing.T) {
	f := newFixture(t, Options{RateLimit: 5}, 1, 0)
	other := f.s.AddAccount()
	for i := 1; i <= 5; i++ {
		resp, _ := f.get(t, "/users", f.acct.Token)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "5", resp.Header.Get("X-RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(5-i), resp.Header.Get("X-RateLimit-Remaining"))
	}
	resp, body := f.get(t, "/users", f.acct.Token)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "60", resp.Header.Get("Retry-After"))
	assert.Equal(t, "0", resp.Header.Get("X-RateLimit-Remaining"))
	assert.EqualValues(t, 429, body["code"])
	assert.Equal(t, "Too Many Attempts.", body["message"])

	resp, _ = f.get(t, "/users", other.Token)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the limit is per token")
	resp, _ = f.get(t, "/users", "not-a-token")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	f.clock.Advance(45 * time.Second)
	resp, _ = f.get(t, "/users", f.acct.Token)
	assert.Equal(t, "15", resp.Header.Get("Retry-After"))
	f.clock.Advance(15 * time.Second)
	resp, _ = f.get(t, "/users", f.acct.Token)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a new window")
	assert.Equal(t, 2, f.s.Count(func(r Request) bool { return r.RateLimited }))
}

func TestAbusingTheLimitMoreThanThreeTimesBlocksTheIP(t *testing.T) {
	f := newFixture(t, Options{RateLimit: 2}, 1, 0)
	other := f.s.AddAccount()
	abuse := func() *http.Response {
		var last *http.Response
		for i := 0; i < 4; i++ { // two refused calls in one window: still one abuse
			last, _ = f.get(t, "/users", f.acct.Token)
		}
		f.clock.Advance(time.Minute)
		return last
	}
	for i := 1; i <= 3; i++ {
		resp := abuse()
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "abuse %d", i)
		require.False(t, f.s.Blocked("127.0.0.1"))
	}
	resp := abuse()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the fourth abuse blocks")
	assert.True(t, f.s.Blocked("127.0.0.1"))

	resp, body := f.get(t, "/users", other.Token)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the block is per IP, whatever the token")
	assert.Contains(t, body["message"], "blocked")
	left, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.Equal(t, int((7*24*time.Hour-time.Minute)/time.Second), left)

	f.clock.Advance(7*24*time.Hour - time.Minute - time.Second)
	resp, _ = f.get(t, "/users", other.Token)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	f.clock.Advance(time.Second)
	resp, _ = f.get(t, "/users", other.Token)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the block ends after 7 days")
}

func TestInjectedFaults(t *testing.T) {
	f := newFixture(t, Options{}, 1, 0)
	f.s.InjectFault(Fault{Status: http.StatusServiceUnavailable, Count: 2, RetryAfter: 3 * time.Second})
	for i := 0; i < 2; i++ {
		resp, body := f.get(t, "/users", f.acct.Token)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, "3", resp.Header.Get("Retry-After"))
		assert.EqualValues(t, 503, body["code"])
	}
	resp, _ := f.get(t, "/users", f.acct.Token)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 2, f.s.Count(func(r Request) bool { return r.Injected }))
}
