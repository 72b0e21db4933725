package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/oauth"
)

// configWith loads a configuration with the required variables and vars.
func configWith(t *testing.T, vars map[string]string) (Config, error) {
	t.Helper()
	base := map[string]string{"REFHUB_PUBLIC_URL": "https://refhub.example", "REFHUB_REDIS_URL": "redis://127.0.0.1:1/0",
		"HUBSPOT_CLIENT_ID": "id", "HUBSPOT_CLIENT_SECRET": "secret",
		"REFHUB_ENCRYPTION_KEYS": oauth.GenerateKeySpec("k1"), "REFHUB_SESSION_SECRET": "0123456789abcdef0123456789abcdef"}
	for k, v := range vars {
		base[k] = v
	}
	return LoadConfig(Env{Getenv: func(k string) string { return base[k] }})
}

// TestLimitsConfiguration: every limit has its documented default, reads
// counts and sizes, and a malformed value stops refhub naming the variable.
func TestLimitsConfiguration(t *testing.T) {
	cfg, err := configWith(t, nil)
	require.NoError(t, err)
	assert.Equal(t, Limits{SourceBacklog: 100_000, SourceBacklogBytes: 256 << 20, WorkspaceBacklog: 1_000_000,
		WorkspaceBacklogBytes: 1 << 30, Sources: 1000, APITokens: 50, RefusedKept: 1000}, cfg.Limits)
	assert.Equal(t, DefaultLimits(), cfg.Limits)
	assert.Zero(t, cfg.WebhookRate, "no per-source rate by default")
	assert.Empty(t, cfg.MetricsAddr)
	assert.Empty(t, cfg.MetricsToken)
	assert.Empty(t, cfg.TrustedProxies)

	cfg, err = configWith(t, map[string]string{"REFHUB_SOURCE_BACKLOG": "5", "REFHUB_SOURCE_BACKLOG_BYTES": "512KiB",
		"REFHUB_WORKSPACE_BACKLOG_BYTES": "1048576", "REFHUB_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7",
		"REFHUB_METRICS_ADDR": "127.0.0.1:9090", "REFHUB_METRICS_TOKEN": "0123456789abcdef"})
	require.NoError(t, err)
	assert.Equal(t, int64(5), cfg.Limits.SourceBacklog)
	assert.Equal(t, int64(512<<10), cfg.Limits.SourceBacklogBytes)
	assert.Equal(t, int64(1<<20), cfg.Limits.WorkspaceBacklogBytes)
	assert.Equal(t, []string{"10.0.0.0/8", "192.168.1.7"}, cfg.TrustedProxies)

	for name, val := range map[string]string{
		"REFHUB_SOURCE_BACKLOG": "0", "REFHUB_SOURCE_BACKLOG_BYTES": "lots", "REFHUB_WORKSPACE_BACKLOG": "-1",
		"REFHUB_WORKSPACE_BACKLOG_BYTES": "9999999999GiB", "REFHUB_MAX_SOURCES": "x", "REFHUB_MAX_API_TOKENS": "0",
		"REFHUB_REFUSED_KEPT": "1.5", "REFHUB_TRUSTED_PROXIES": "proxy.example", "REFHUB_METRICS_ADDR": "9090",
		"REFHUB_METRICS_TOKEN": "short", "REFHUB_WEBHOOK_RATE_LIMIT": "-5",
	} {
		_, err := configWith(t, map[string]string{name: val})
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), name+":")
		}
	}
}
