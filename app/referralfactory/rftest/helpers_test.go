package rftest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/clocktest"
)

var t0 = time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)

// fixture is a simulator with one account and two seeded campaigns.
type fixture struct {
	s     *Server
	clock *clocktest.Clock
	acct  Account
	c1    Campaign
	c2    Campaign
}

func newFixture(t *testing.T, opts Options, referrers, leadsPer int) *fixture {
	t.Helper()
	f := &fixture{clock: clocktest.New(t0)}
	opts.Clock = f.clock.Now
	f.s = NewTestServer(t, opts)
	f.acct = f.s.AddAccount()
	var err error
	f.c1, err = f.s.AddCampaign(f.acct.ID, "Spring")
	require.NoError(t, err)
	f.c2, err = f.s.AddCampaign(f.acct.ID, "Autumn")
	require.NoError(t, err)
	if referrers > 0 {
		_, err = f.s.SeedCampaign(f.c1.ID, referrers, leadsPer, 0)
		require.NoError(t, err)
		_, err = f.s.SeedCampaign(f.c2.ID, referrers, leadsPer, 0)
		require.NoError(t, err)
	}
	return f
}

// call sends a request to the simulator and decodes a JSON answer.
func call(t *testing.T, method, target, token string, hdr http.Header, body io.Reader) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, target, body)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), "body %s", raw)
	}
	return resp, out
}

func (f *fixture) get(t *testing.T, pathAndQuery, token string) (*http.Response, map[string]any) {
	t.Helper()
	return call(t, http.MethodGet, f.s.APIBase()+pathAndQuery, token, nil, nil)
}

// postForm posts form values to the account's inbound qualify URL.
func postForm(t *testing.T, target string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	return call(t, http.MethodPost, target, "", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		strings.NewReader(form.Encode()))
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}
