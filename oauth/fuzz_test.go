package oauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/oauth"
)

// FuzzStateVerify: no state other than the one issued, with its own nonce,
// ever verifies, and nothing panics on hostile input.
func FuzzStateVerify(f *testing.F) {
	rdb := redistest.Client(f)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	states := oauth.NewStates([]byte("fuzz-key-0123456789abcdef0123456"), rdb, func() time.Time { return now })
	nonce, state, err := states.Issue("/app/")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(state, nonce)
	f.Add(state+"x", nonce)
	f.Add(state, nonce+"x")
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJuaCI6IngifQ.", "x")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, s, n string) {
		if _, err := states.Verify(context.Background(), s, n); err == nil && (s != state || n != nonce) {
			t.Fatalf("a forged state verified: %q / %q", s, n)
		}
	})
}
