package ingest_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/tenants"
)

// Bounds of FuzzWebhookCost: for any request of n bytes (body and query),
// what refhub stores is at most storedFactor × n + storedSlack bytes and
// its answer at most answerMax bytes.
const (
	storedFactor = 3
	storedSlack  = 80 << 10
	answerMax    = 8 << 10
)

// FuzzWebhookCost: whatever a webhook request carries — any content type,
// body and query — the event records it leaves in Redis take at most
// 3 × its size + 80 KiB and the answer at most 8 KiB.
func FuzzWebhookCost(f *testing.F) {
	env := apptest.Start(f, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	hook := src.WebhookURL[len(env.URL("")):]
	h := env.Server.Config.Handler
	for _, s := range []struct{ ct, body, query string }{
		{"application/json", `{"email":"a@example.com","first_name":"Ann"}`, ""},
		{"application/json", string(apptest.Amplifier(1000, 499)), ""},
		{"application/json", `{"` + strings.Repeat("A", 250) + `":{"` + strings.Repeat("B", 250) + `":[1,1,1,1,1,1,1,1,1,1]}}`, ""},
		{"application/json", `{"email":"b@example.com","m":[{"field":"` + strings.Repeat("<", 300) + `","value":"` + strings.Repeat("&", 3000) + `"}]}`, ""},
		{"application/x-www-form-urlencoded", "email=c%40example.com&x=" + strings.Repeat("%01", 1000), ""},
		{"", "", "email=d%40example.com&" + strings.Repeat("k", 300) + "=v"},
		{"text/" + strings.Repeat("x", 500), "<a/>", ""},
	} {
		f.Add(s.ct, []byte(s.body), s.query)
	}
	ctx := context.Background()
	events := tenants.PortalKey(1001, "ev")
	f.Fuzz(func(t *testing.T, contentType string, body []byte, rawQuery string) {
		if err := env.Redis.Del(ctx, events).Err(); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, hook, bytes.NewReader(body))
		req.URL.RawQuery = rawQuery
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		n := len(body) + len(req.URL.RawQuery)
		if rec.Code >= 500 {
			t.Fatalf("answer %d to an input of %d bytes: %s", rec.Code, n, rec.Body)
		}
		if rec.Body.Len() > answerMax {
			t.Fatalf("an input of %d bytes got an answer of %d", n, rec.Body.Len())
		}
		vals, err := env.Redis.HVals(ctx, events).Result()
		if err != nil {
			t.Fatal(err)
		}
		stored := 0
		for _, v := range vals {
			stored += len(v)
		}
		if stored > storedFactor*n+storedSlack {
			t.Fatalf("an input of %d bytes was stored as %d (status %d)", n, stored, rec.Code)
		}
	})
}
