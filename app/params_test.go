package app_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/refhub/refhub/internal/apptest"
)

// TestNoQueryParameterCausesA5xx: no value of a query parameter, alone,
// makes a page or an API call fail on refhub's side: every numeric or time
// parameter of every listing is bounded, and a bad value is a 4xx that
// names it (or, on a page, the nearest sensible page).
func TestNoQueryParameterCausesA5xx(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("p", 3, ""), 1)
	routes := []string{
		"/api/v1/portals", "/api/v1/portals/1001", "/api/v1/sources", "/api/v1/sources/" + src.ID,
		"/api/v1/sources/" + src.ID + "/activity", "/api/v1/sources/" + src.ID + "/dead-letters",
		"/app/", "/app/portals/1001", "/app/sources/" + src.ID, "/app/sources/" + src.ID + "/activity",
		"/app/sources/" + src.ID + "/dead-letters", "/app/sources/" + src.ID + "/mapping",
		"/app/sources/" + src.ID + "/routes", "/app/tokens",
	}
	params := []string{"page", "per_page", "limit", "before", "after", "status", "q", "email", "route", "refresh"}
	values := []string{
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "368934881474191034",
		"99999999999999999999999", "-1", "0", "1e9", "0x10", " 1", "NaN", "\x00", "%",
		"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "99999-01-01T00:00:00Z", "2026-13-45T99:99:99Z",
		"1:9223372036854775807", "9223372036854775807:ev_x", "ev_\x00",
	}
	client := &http.Client{Jar: b.Jar, CheckRedirect: apptest.NoRedirect}
	fails := 0
	for _, route := range routes {
		for _, p := range params {
			for _, v := range values {
				resp, err := client.Get(env.URL(route + "?" + url.Values{p: {v}}.Encode()))
				if err != nil {
					t.Fatal(err)
				}
				body := apptest.ReadAll(resp)
				if !assert.Less(t, resp.StatusCode, 500, "%s?%s=%s: %s", route, p, strconv.Quote(v), body) {
					if fails++; fails > 10 {
						t.FailNow()
					}
				}
			}
		}
	}
}
