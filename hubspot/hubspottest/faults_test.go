package hubspottest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

// statuses makes n property-list calls and returns their statuses.
func statuses(e *env, at string, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = e.get(propsPath, at).status
	}
	return out
}

func TestErrorRateIsSeededAndDeterministic(t *testing.T) {
	run := func(seed int64) []int {
		e := newEnv(t)
		e.s.SetFaults(hubspottest.Faults{ErrorRate: 0.5, Statuses: []int{500, 502, 503}, Seed: seed})
		return statuses(e, e.token(hubAcme), 40)
	}
	a, b := run(7), run(7)
	assert.Equal(t, a, b)
	var failed int
	for _, s := range a {
		if s != http.StatusOK {
			failed++
			assert.Contains(t, []int{500, 502, 503}, s)
		}
	}
	assert.Greater(t, failed, 5)
	assert.Less(t, failed, 35)
	assert.NotEqual(t, a, run(8))
}

func TestInjectedStatusBodies(t *testing.T) {
	cases := []struct {
		status     int
		category   string
		retryAfter string
	}{
		{500, "INTERNAL_ERROR", ""},
		{502, "BAD_GATEWAY", ""},
		{503, "SERVICE_UNAVAILABLE", ""},
		{423, "LOCKED", "2"},
		{477, "MIGRATION_IN_PROGRESS", "5"},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			e := newEnv(t)
			e.s.SetFaults(hubspottest.Faults{ErrorRate: 1, Statuses: []int{tc.status}})
			res := e.postJSON(upsertPath, e.token(hubAcme), inputs(upsertInput("f@x.test", map[string]string{})))
			res.apiError(t, tc.status, tc.category)
			assert.Equal(t, tc.retryAfter, res.header.Get("Retry-After"))
			assertRateHeaders(t, res)
			assert.Equal(t, "110", res.header.Get("X-HubSpot-RateLimit-Remaining"), "faults are not counted")
			assert.Empty(t, e.s.Contacts(hubAcme), "not processed")
		})
	}
	t.Run("429", func(t *testing.T) {
		e := newEnv(t)
		e.s.SetFaults(hubspottest.Faults{ErrorRate: 1, Statuses: []int{429}})
		res := e.get(propsPath, e.token(hubAcme))
		require.Equal(t, http.StatusTooManyRequests, res.status)
		assert.Equal(t, "TEN_SECONDLY_ROLLING", res.obj(t)["policyName"])
		assert.Equal(t, "0", res.header.Get("X-HubSpot-RateLimit-Remaining"))
	})
	t.Run("Retry-After when asked for", func(t *testing.T) {
		for status, want := range map[int]string{429: "13", 500: "13", 477: "13"} {
			e := newEnv(t)
			e.s.SetFaults(hubspottest.Faults{ErrorRate: 1, Statuses: []int{status}, RetryAfter: 13 * time.Second})
			res := e.get(propsPath, e.token(hubAcme))
			require.Equal(t, status, res.status)
			assert.Equal(t, want, res.header.Get("Retry-After"), "status %d", status)
		}
	})
	t.Run("default status is 500 and faults skip unauthenticated calls", func(t *testing.T) {
		e := newEnv(t)
		e.s.SetFaults(hubspottest.Faults{ErrorRate: 1})
		assert.Equal(t, http.StatusInternalServerError, e.get(propsPath, e.token(hubAcme)).status)
		assert.Equal(t, http.StatusUnauthorized, e.get(propsPath, "").status)
		e.s.SetFaults(hubspottest.Faults{})
		assert.Equal(t, http.StatusOK, e.get(propsPath, e.token(hubAcme)).status)
	})
}

func TestOutageUntil(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	e.s.SetFaults(hubspottest.Faults{OutageUntil: e.clock.Now().Add(time.Minute)})
	e.get(propsPath, at).apiError(t, http.StatusInternalServerError, "INTERNAL_ERROR")
	e.get(propsPath, "").apiError(t, http.StatusInternalServerError, "INTERNAL_ERROR")
	assert.Equal(t, http.StatusOK, e.exchange(e.authCode(hubAcme, userAdmin)).status, "OAuth is not part of the outage")
	e.clock.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, e.get(propsPath, at).status)
}

func TestHangRateHoldsUntilClientGivesUp(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	e.s.SetFaults(hubspottest.Faults{HangRate: 1})
	client := &http.Client{Timeout: 150 * time.Millisecond}
	req, err := http.NewRequest(http.MethodGet, e.s.URL()+propsPath, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+at)
	start := time.Now()
	_, err = client.Do(req)
	require.Error(t, err)
	var netErr interface{ Timeout() bool }
	require.True(t, errors.As(err, &netErr) && netErr.Timeout(), "got %v", err)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	require.Eventually(t, func() bool {
		return e.s.Count(func(r hubspottest.Request) bool { return r.Status == http.StatusGatewayTimeout }) == 1
	}, 5*time.Second, 10*time.Millisecond, "the hung call is logged once the client gives up")
}

func TestHangIsReleasedOnShutdown(t *testing.T) {
	s := hubspottest.New(hubspottest.Options{})
	s.AddPortal(hubspottest.Portal{HubID: 1})
	at, _ := s.IssueTokens(1, 1, nil)
	s.SetFaults(hubspottest.Faults{HangRate: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, "127.0.0.1:0") }()
	require.Eventually(t, func() bool { return s.URL() != "" }, 5*time.Second, 5*time.Millisecond)

	req, _ := http.NewRequest(http.MethodGet, s.URL()+propsPath, nil)
	req.Header.Set("Authorization", "Bearer "+at)
	got := sendAsync(req)
	require.Eventually(t, func() bool { return len(s.InFlight()) == 1 }, 5*time.Second, 5*time.Millisecond,
		"the request reaches the hang")
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("ListenAndServe did not return")
	}
	assert.Equal(t, http.StatusGatewayTimeout, <-got)
}

func TestLatency(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	e.s.SetFaults(hubspottest.Faults{Latency: 80 * time.Millisecond})
	for _, call := range []func() response{
		func() response { return e.get(propsPath, at) },
		func() response { return e.refresh(e.install(hubGlobex, userGlobex).RefreshToken) },
	} {
		start := time.Now()
		res := call()
		assert.Equal(t, http.StatusOK, res.status)
		assert.GreaterOrEqual(t, time.Since(start), 80*time.Millisecond)
	}
}

func TestInFlightShowsHeldRequests(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	e.s.SetFaults(hubspottest.Faults{Latency: 300 * time.Millisecond})
	assert.Empty(t, e.s.InFlight())
	req, err := http.NewRequest(http.MethodPost, e.s.URL()+upsertPath, strings.NewReader(`{"inputs":[{"idProperty":"email","id":"f@x.test","properties":{}}]}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+at)
	req.Header.Set("Content-Type", "application/json")
	done := sendAsync(req)
	require.Eventually(t, func() bool { return len(e.s.InFlight()) == 1 }, 5*time.Second, 5*time.Millisecond)
	got := e.s.InFlight()[0]
	assert.Equal(t, "contacts.batch.upsert", got.Endpoint)
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Zero(t, e.s.Count(func(r hubspottest.Request) bool { return r.Endpoint == "contacts.batch.upsert" }),
		"not in the log before it is answered")
	assert.Equal(t, http.StatusOK, <-done)
	require.Eventually(t, func() bool { return len(e.s.InFlight()) == 0 }, 5*time.Second, 5*time.Millisecond,
		"answered: no longer in flight")
	assert.Equal(t, 1, e.s.Count(func(r hubspottest.Request) bool { return r.Endpoint == "contacts.batch.upsert" }))
}

// sendAsync sends req from another goroutine and delivers the answer's
// status (0 if the request failed).
func sendAsync(req *http.Request) <-chan int {
	status := make(chan int, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- 0
			return
		}
		res.Body.Close()
		status <- res.StatusCode
	}()
	return status
}
