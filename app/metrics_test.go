package app_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

// scrape GETs a metrics URL with an optional bearer token.
func scrape(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestMetricsAreNotAnonymous: by default the public listener (where
// webhooks and browsers arrive) serves no metrics; with
// REFHUB_METRICS_TOKEN it serves them to a scraper presenting the token
// only; REFHUB_METRICS_ADDR serves them on a listener of their own.
func TestMetricsAreNotAnonymous(t *testing.T) {
	t.Run("default: not on the public listener", func(t *testing.T) {
		env := apptest.Start(t, apptest.Options{Configure: func(c *app.Config) { c.MetricsToken = "" }})
		status, body := scrape(t, env.URL("/metrics"), "")
		assert.Equal(t, http.StatusNotFound, status)
		assert.Contains(t, body, "REFHUB_METRICS_ADDR")
		assert.NotContains(t, body, "refhub_", "no metric")
		status, _ = scrape(t, env.URL("/metrics"), "anything-at-all-here")
		assert.Equal(t, http.StatusNotFound, status, "no token opens what is not served")
	})
	t.Run("bearer token", func(t *testing.T) {
		env := apptest.Start(t, apptest.Options{})
		for _, token := range []string{"", "wrong-token-0123456789", apptest.MetricsToken + "x"} {
			status, body := scrape(t, env.URL("/metrics"), token)
			assert.Equal(t, http.StatusUnauthorized, status, "token %q", token)
			assert.NotContains(t, body, "refhub_")
		}
		status, body := scrape(t, env.URL("/metrics"), apptest.MetricsToken)
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, "refhub_http_requests_total")
	})
	t.Run("a listener of their own", func(t *testing.T) {
		pub, met := redistest.FreePort(t), redistest.FreePort(t)
		env := apptest.Start(t, apptest.Options{Configure: func(c *app.Config) {
			c.Addr, c.MetricsAddr, c.MetricsToken = "127.0.0.1:"+strconv.Itoa(pub), "127.0.0.1:"+strconv.Itoa(met), ""
		}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- env.App.Run(ctx) }()
		defer func() { cancel(); require.NoError(t, <-done) }()
		base := "http://127.0.0.1:" + strconv.Itoa(met)
		apptest.Eventually(t, 5*time.Second, "the metrics listener", func() bool {
			resp, err := http.Get(base + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil && resp.StatusCode == http.StatusOK
		})
		status, body := scrape(t, base+"/metrics", "")
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, "refhub_queue_depth")
		status, _ = scrape(t, "http://127.0.0.1:"+strconv.Itoa(pub)+"/metrics", "")
		assert.Equal(t, http.StatusNotFound, status, "the public listener still serves none")
		status, _ = scrape(t, base+"/readyz", "")
		assert.Equal(t, http.StatusOK, status)
	})
}
