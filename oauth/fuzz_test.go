package oauth_test

import (
	"context"
	"crypto/rand"
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
	// A key of this process only: the fuzzer runs inputs in worker processes,
	// where a state issued by the coordinator must not (and cannot) verify.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	states := oauth.NewStates(key, rdb, func() time.Time { return now })
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
