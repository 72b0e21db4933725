package app_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/oauth"
)

// TestConfigDefaults: with only the required variables set, refhub runs
// with the defaults README.md documents (the figures are written out here,
// not read from the code under test).
func TestConfigDefaults(t *testing.T) {
	vars := map[string]string{
		"REFHUB_PUBLIC_URL": "https://refhub.example.com", "REFHUB_REDIS_URL": "redis://127.0.0.1:6379/0",
		"HUBSPOT_CLIENT_ID": "id", "HUBSPOT_CLIENT_SECRET": "secret",
		"REFHUB_ENCRYPTION_KEYS": oauth.GenerateKeySpec("k1"), "REFHUB_SESSION_SECRET": "0123456789abcdef0123456789abcdef",
	}
	cfg, err := app.LoadConfig(app.Env{Getenv: func(k string) string { return vars[k] }, ReadFile: os.ReadFile})
	require.NoError(t, err)
	assert.Equal(t, ":8080", cfg.Addr)
	assert.Equal(t, "https://api.hubapi.com", cfg.APIBase)
	assert.Equal(t, "https://app.hubspot.com", cfg.AppBase)
	assert.Equal(t, 100, cfg.RateLimit, "100 calls per 10 s, under HubSpot's 110")
	assert.Equal(t, 10*time.Second, cfg.RateWindow)
	assert.Equal(t, 20*time.Second, cfg.HubSpotTimeout)
	assert.Equal(t, 16, cfg.Workers)
	assert.Equal(t, 72*time.Hour, cfg.RetryFor, "a failing batch is retried for 72 hours")
	assert.Equal(t, 30*24*time.Hour, cfg.Retention, "activity is kept 30 days")
	assert.Zero(t, cfg.WebhookRate, "no per-source request rate by default: a burst is bounded by the backlog quota, not refused")
	assert.Equal(t, "info", cfg.LogLevel)
	assert.False(t, cfg.RedisCluster)
}
