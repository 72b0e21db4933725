package app

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// TestSecureCookiesFollowTheScheme: the session, CSRF and install cookies
// are Secure exactly when the public URL's scheme is https, however it is
// written (a scheme is case-insensitive, and config validation accepts
// "HTTPS://").
func TestSecureCookiesFollowTheScheme(t *testing.T) {
	rdb := redistest.Client(t)
	for _, tc := range []struct {
		url    string
		secure bool
	}{
		{"https://refhub.example", true},
		{"HTTPS://refhub.example", true},
		{"Https://refhub.example/", true},
		{"http://localhost:8080", false},
		{"HTTP://localhost:8080", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			env := Env{Getenv: func(k string) string {
				return map[string]string{"REFHUB_PUBLIC_URL": tc.url, "REFHUB_REDIS_URL": "redis://127.0.0.1:1/0",
					"HUBSPOT_CLIENT_ID": "id", "HUBSPOT_CLIENT_SECRET": "secret",
					"REFHUB_ENCRYPTION_KEYS": oauth.GenerateKeySpec("k1"), "REFHUB_SESSION_SECRET": "0123456789abcdef0123456789abcdef"}[k]
			}}
			cfg, err := LoadConfig(env)
			require.NoError(t, err, "the configuration is accepted")
			a, err := New(cfg, Options{Redis: rdb})
			require.NoError(t, err)

			rec := httptest.NewRecorder()
			require.NoError(t, a.install.Sessions.SignIn(context.Background(), rec, tenants.Workspace{ID: "ws_x"}, tenants.Member{UserID: 1, Email: "a@b.co"}))
			cookies := rec.Result().Cookies()
			require.Len(t, cookies, 2)
			for _, c := range cookies {
				assert.Equal(t, tc.secure, c.Secure, c.Name)
			}
			w := httptest.NewRecorder()
			_, err = a.install.Installer.Begin(w, "/app/")
			require.NoError(t, err)
			nonce := w.Result().Cookies()
			require.Len(t, nonce, 1)
			assert.Equal(t, tc.secure, nonce[0].Secure, nonce[0].Name)
		})
	}
}
