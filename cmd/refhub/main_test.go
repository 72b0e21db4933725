package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

func TestHelpAndVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"--help"}, &out, &errOut))
	for _, cmd := range []string{"serve", "dev", "hubspot-sim", "version"} {
		assert.Contains(t, out.String(), "refhub "+cmd)
	}
	out.Reset()
	assert.Equal(t, 0, run(context.Background(), []string{"version"}, &out, &errOut))
	assert.Contains(t, out.String(), "refhub ")
	assert.Equal(t, 2, run(context.Background(), []string{"frobnicate"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `unknown command "frobnicate"`)
	assert.Equal(t, 2, run(context.Background(), nil, &out, &errOut))
}

// TestServeRefusesBadConfig: a missing or malformed value stops refhub
// with a message naming the variable and what is expected.
func TestServeRefusesBadConfig(t *testing.T) {
	for _, v := range []string{"REFHUB_PUBLIC_URL", "REFHUB_REDIS_URL", "HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET",
		"REFHUB_ENCRYPTION_KEYS", "REFHUB_SESSION_SECRET", "REFHUB_HUBSPOT_RATE_LIMIT"} {
		t.Setenv(v, "")
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"serve"}, &out, &errOut)
	assert.Equal(t, 2, code)
	for _, want := range []string{"REFHUB_PUBLIC_URL: required", "REFHUB_REDIS_URL: required", "HUBSPOT_CLIENT_ID: required",
		"HUBSPOT_CLIENT_SECRET: required", "REFHUB_ENCRYPTION_KEYS: required", "REFHUB_SESSION_SECRET: required"} {
		assert.Contains(t, errOut.String(), want)
	}

	t.Setenv("REFHUB_PUBLIC_URL", "refhub.example.com")
	t.Setenv("REFHUB_REDIS_URL", "localhost:6379")
	t.Setenv("HUBSPOT_CLIENT_ID", "id")
	t.Setenv("HUBSPOT_CLIENT_SECRET", "")
	t.Setenv("HUBSPOT_CLIENT_SECRET_FILE", "/does/not/exist")
	t.Setenv("REFHUB_ENCRYPTION_KEYS", "k1:c2hvcnQ=")
	t.Setenv("REFHUB_SESSION_SECRET", "short")
	t.Setenv("REFHUB_HUBSPOT_RATE_LIMIT", "lots")
	errOut.Reset()
	assert.Equal(t, 2, run(context.Background(), []string{"serve"}, &out, &errOut))
	msg := errOut.String()
	for _, want := range []string{"REFHUB_PUBLIC_URL: an absolute http(s) URL", "REFHUB_REDIS_URL: want redis://",
		"HUBSPOT_CLIENT_SECRET_FILE: cannot read /does/not/exist", "REFHUB_ENCRYPTION_KEYS: key \"k1\": want 32 bytes",
		"REFHUB_SESSION_SECRET: at least 32 characters", "REFHUB_HUBSPOT_RATE_LIMIT: calls per window"} {
		assert.Contains(t, msg, want)
	}
	assert.NotContains(t, msg, "c2hvcnQ=", "key material is never echoed")
}

func waitFor(t *testing.T, buf *apptest.SyncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("output never matched %s:\n%s", re, buf.String())
	return nil
}

// TestDevRunsWithNothingButGo: `refhub dev` starts with its embedded Redis
// and HubSpot simulator, prints one URL; opening it runs the install through
// the simulated consent page and lands in /app/; the printed curl sends a
// test signup that becomes a contact.
func TestDevRunsWithNothingButGo(t *testing.T) {
	t.Setenv("REFHUB_REDIS_URL", "")
	port := redistest.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut apptest.SyncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"dev", "--addr", "127.0.0.1:" + strconv.Itoa(port)}, &out, &errOut) }()
	defer func() {
		cancel()
		assert.Equal(t, 0, <-done, errOut.String())
	}()
	open := waitFor(t, &out, regexp.MustCompile(`Open (http://\S+?)/oauth/install to install`))[1]
	metrics := waitFor(t, &out, regexp.MustCompile(`Metrics: curl -sS -H 'Authorization: Bearer (\S+)' (\S+/metrics)`))
	req, _ := http.NewRequest(http.MethodGet, metrics[2], nil)
	req.Header.Set("Authorization", "Bearer "+metrics[1])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the printed metrics command works")
	resp, err = http.Get(metrics[2])
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "not without the token")

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err = browser.Get(open + "/oauth/install")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(page), `id="approve"`, "the simulated consent page")

	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`).FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	acct := regexp.MustCompile(`name="account" id="[^"]+" value="([^"]+)"`).FindStringSubmatch(string(page))
	require.NotNil(t, acct)
	form.Set("account", htmlUnescape(acct[1]))
	form.Set("decision", "approve")
	resp, err = browser.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/oauth/authorize/decision", form)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "/app/", resp.Request.URL.Path, "the install lands in the app")

	curl := waitFor(t, &out, regexp.MustCompile(`curl -sS -X POST '(\S+)' -H 'Content-Type: application/json' -d '(\{.*\})'`))
	resp, err = http.Post(curl[1], "application/json", strings.NewReader(curl[2]))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)

	var src struct {
		Sources []struct{ ID string } `json:"sources"`
	}
	getJSON(t, browser, open+"/api/v1/sources", &src)
	require.Len(t, src.Sources, 1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var act struct {
			Events []struct {
				Status    string `json:"status"`
				ContactID string `json:"contact_id"`
			} `json:"events"`
		}
		getJSON(t, browser, open+"/api/v1/sources/"+src.Sources[0].ID+"/activity", &act)
		if len(act.Events) == 1 && act.Events[0].Status == "delivered" {
			assert.NotEmpty(t, act.Events[0].ContactID)
			break
		}
		require.True(t, time.Now().Before(deadline), "the test signup was not delivered: %+v", act)
		time.Sleep(50 * time.Millisecond)
	}
}

func getJSON(t *testing.T, c *http.Client, u string, v any) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
}
