package apptest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// NoRedirect stops a client at the first redirect, so a test reads its
// status and Location.
func NoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Get fetches u with b (following redirects) and returns the status and
// body.
func Get(t testing.TB, b *Browser, u string) (int, string) {
	t.Helper()
	resp, err := b.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// PostForm submits a form like a browser does (no redirects followed) and
// returns status, Location and body.
func PostForm(t testing.TB, b *Browser, u string, form url.Values) (int, string, string) {
	t.Helper()
	c := *b.Client
	c.CheckRedirect = NoRedirect
	resp, err := c.PostForm(u, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// WithCSRF returns form with the CSRF token a page's forms carry (none for
// "").
func WithCSRF(token string, form url.Values) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	if token != "" {
		out.Set("csrf_token", token)
	}
	return out
}

// ReadAll reads and closes a response's body.
func ReadAll(resp *http.Response) string {
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return buf.String()
}

// Amplifier is the body an outside review used to turn 101 KB into a 51 MB
// event: one long key whose value is a list, so flattening repeats the key
// in every element's path.
func Amplifier(keyLen, elems int) []byte {
	var b strings.Builder
	b.WriteString(`{"` + strings.Repeat("A", keyLen) + `":[`)
	for i := 0; i < elems; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('1')
	}
	b.WriteString("]}")
	return []byte(b.String())
}
