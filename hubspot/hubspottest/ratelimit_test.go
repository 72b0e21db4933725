package hubspottest_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

func remaining(t *testing.T, res response) int {
	t.Helper()
	n, err := strconv.Atoi(res.header.Get("X-HubSpot-RateLimit-Remaining"))
	require.NoError(t, err)
	return n
}

func TestDefaultRateLimitHeaders(t *testing.T) {
	e := newEnv(t)
	res := e.get(propsPath, e.token(hubAcme))
	assert.Equal(t, "110", res.header.Get("X-HubSpot-RateLimit-Max"))
	assert.Equal(t, "109", res.header.Get("X-HubSpot-RateLimit-Remaining"))
	assert.Equal(t, "10000", res.header.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
}

func TestRateLimitRejectsAndDoesNotCountRejections(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.RateLimit = 3; o.RateWindow = 10 * time.Second })
	at := e.token(hubAcme)
	for want := 2; want >= 0; want-- {
		res := e.get(propsPath, at)
		require.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, want, remaining(t, res))
	}
	for i := 0; i < 5; i++ {
		res := e.get(propsPath, at)
		require.Equal(t, http.StatusTooManyRequests, res.status)
		assert.Equal(t, 0, remaining(t, res))
		assert.Equal(t, "3", res.header.Get("X-HubSpot-RateLimit-Max"))
		assert.Equal(t, "10000", res.header.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
		b := res.obj(t)
		assert.Equal(t, "error", b["status"])
		assert.Equal(t, "You have reached your ten_secondly_rolling limit.", b["message"])
		assert.Equal(t, "RATE_LIMIT", b["errorType"])
		assert.Equal(t, "TEN_SECONDLY_ROLLING", b["policyName"])
		assert.Regexp(t, uuidPattern, b["correlationId"])
		assert.Regexp(t, uuidPattern, b["requestId"])
		assert.NotEmpty(t, b["groupName"])
	}
	e.clock.Advance(10 * time.Second)
	res := e.get(propsPath, at)
	require.Equal(t, http.StatusOK, res.status, "rejected calls did not extend the window")
	assert.Equal(t, 2, remaining(t, res))
	assert.Equal(t, 5, e.s.Count(func(r hubspottest.Request) bool { return r.Category == "RATE_LIMIT" }))
}

func TestRateLimitWindowRolls(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.RateLimit = 3 })
	at := e.token(hubAcme)
	require.Equal(t, http.StatusOK, e.get(propsPath, at).status) // t=0
	e.clock.Advance(5 * time.Second)
	require.Equal(t, http.StatusOK, e.get(propsPath, at).status) // t=5
	require.Equal(t, http.StatusOK, e.get(propsPath, at).status) // t=5
	e.clock.Advance(4999 * time.Millisecond)
	assert.Equal(t, http.StatusTooManyRequests, e.get(propsPath, at).status, "t=9.999: all three still in window")
	e.clock.Advance(time.Millisecond)
	res := e.get(propsPath, at)
	assert.Equal(t, http.StatusOK, res.status, "t=10: the first call left the window")
	assert.Equal(t, 0, remaining(t, res))
	assert.Equal(t, http.StatusTooManyRequests, e.get(propsPath, at).status)
	e.clock.Advance(5 * time.Second)
	assert.Equal(t, 1, remaining(t, e.get(propsPath, at)), "t=15: the two t=5 calls left")
}

func TestRateLimitIsPerPortalAndSharedByTokens(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.RateLimit = 2 })
	a1, a2 := e.token(hubAcme), e.install(hubAcme, userOps).AccessToken
	require.Equal(t, http.StatusOK, e.get(propsPath, a1).status)
	require.Equal(t, http.StatusOK, e.get(propsPath, a2).status)
	assert.Equal(t, http.StatusTooManyRequests, e.get(propsPath, a1).status)
	assert.Equal(t, http.StatusTooManyRequests, e.get(propsPath, a2).status)
	assert.Equal(t, http.StatusOK, e.get(propsPath, e.token(hubGlobex)).status)
}

func TestRateLimitCountsErrorsAndHeadersOnErrors(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.RateLimit = 2 })
	at := e.token(hubAcme)
	res := e.postJSON(upsertPath, at, inputs())
	res.apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	assert.Equal(t, 1, remaining(t, res), "an admitted 400 counts")

	res = e.get(propsPath, "")
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Equal(t, 2, remaining(t, res), "unauthenticated calls do not count")

	expiredToken := e.token(hubAcme)
	e.clock.Advance(31 * time.Minute)
	res = e.get(propsPath, expiredToken)
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Equal(t, 2, remaining(t, res), "the window rolled and the 401 was not counted")
}

func TestSetRateLimitAtRuntime(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	e.s.SetRateLimit(1, time.Minute)
	res := e.get(propsPath, at)
	assert.Equal(t, "1", res.header.Get("X-HubSpot-RateLimit-Max"))
	assert.Equal(t, "60000", res.header.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
	assert.Equal(t, http.StatusTooManyRequests, e.get(propsPath, at).status)
	e.clock.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, e.get(propsPath, at).status)
}
