package auth

import (
	"context"
	"crypto/rand"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// FuzzSessionVerify: no cookie value but a genuine session's verifies, and
// hostile values (alg none, other keys, garbage) never panic.
func FuzzSessionVerify(f *testing.F) {
	rdb := redistest.Client(f)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	secret := make([]byte, 32) // this process's own: inputs run in other processes too
	_, _ = rand.Read(secret)
	s := &Sessions{key: oauth.DeriveKey(secret, "session"),
		csrfKey: []byte("csrf"), rdb: rdb, now: func() time.Time { return now }}
	rec := httptest.NewRecorder()
	if err := s.SignIn(context.Background(), rec, tenants.Workspace{ID: "ws_fuzz"}, tenants.Member{UserID: 1, Email: "a@b.co"}); err != nil {
		f.Fatal(err)
	}
	var genuine string
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == SessionCookie {
			genuine = ck.Value
		}
	}
	f.Add(genuine)
	f.Add(genuine + "x")
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzaWQiOiJ4Iiwid3MiOiJ3c19mdXp6In0.")
	f.Add("")
	f.Fuzz(func(t *testing.T, cookie string) {
		if p, err := s.Verify(context.Background(), cookie); err == nil && (cookie != genuine || p.WorkspaceID != "ws_fuzz") {
			t.Fatalf("a forged session verified: %q", cookie)
		}
	})
}
