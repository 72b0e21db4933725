package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/refhub/refhub/app/redisconn"
	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
)

// Config is refhub's configuration, read from the environment.
type Config struct {
	Addr           string // REFHUB_ADDR
	PublicURL      string // REFHUB_PUBLIC_URL: the https URL HubSpot and Referral Factory reach refhub at
	RedisURL       string // REFHUB_REDIS_URL
	RedisCluster   bool   // REFHUB_REDIS_CLUSTER: REFHUB_REDIS_URL lists cluster nodes
	ClientID       string // HUBSPOT_CLIENT_ID
	ClientSecret   string // HUBSPOT_CLIENT_SECRET
	EncryptionKeys string // REFHUB_ENCRYPTION_KEYS
	SessionSecret  string // REFHUB_SESSION_SECRET
	APIBase        string // HUBSPOT_API_BASE
	AppBase        string // HUBSPOT_APP_BASE
	RFBase         string // REFERRAL_FACTORY_BASE: the only host refhub calls to qualify referrals

	RFAPIBase    string        // REFERRAL_FACTORY_API_BASE: Referral Factory's REST API (backfills)
	RFRateLimit  int           // REFERRAL_FACTORY_RATE_LIMIT: API calls per RFRateWindow per Referral Factory account
	RFRateWindow time.Duration // (the "/1m" part of REFERRAL_FACTORY_RATE_LIMIT)

	RateLimit      int           // REFHUB_HUBSPOT_RATE_LIMIT: calls per RateWindow per portal
	RateWindow     time.Duration // (the "/10s" part of REFHUB_HUBSPOT_RATE_LIMIT)
	HubSpotTimeout time.Duration // REFHUB_HUBSPOT_TIMEOUT
	Workers        int           // REFHUB_WORKERS: lanes worked on at once per process (0: no delivery here)
	RetryFor       time.Duration // REFHUB_RETRY_FOR
	WebhookRate    int           // REFHUB_WEBHOOK_RATE_LIMIT: requests per second per source (0: no limit)
	Retention      time.Duration // REFHUB_ACTIVITY_RETENTION: how long delivered and refused events are kept
	LogLevel       string        // REFHUB_LOG_LEVEL
	MetricsAddr    string        // REFHUB_METRICS_ADDR: a listener of its own for /metrics (empty: none)
	MetricsToken   string        // REFHUB_METRICS_TOKEN: bearer token for /metrics (empty: not on the public listener)
	TrustedProxies []string      // REFHUB_TRUSTED_PROXIES: load balancers whose X-Forwarded-For names the client
	Limits         Limits        // what one tenant may cost

	// RequireDurableRedis (REFHUB_REQUIRE_DURABLE_REDIS) refuses to start on
	// a Redis that can lose queued signups (no AOF and no snapshots, or
	// eviction); by default refhub only warns.
	RequireDurableRedis bool
}

// ConfigError names the variable that is missing or malformed and what is
// expected.
type ConfigError struct{ Var, Problem string }

func (e *ConfigError) Error() string { return e.Var + ": " + e.Problem }

// Env reads variables; FILE variants are read through ReadFile.
type Env struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
}

// OSEnv is the process environment.
var OSEnv = Env{Getenv: os.Getenv, ReadFile: os.ReadFile}

// Overlay returns the process environment with vars set on top (for
// `refhub dev` and tests, which supply what `serve` reads from outside).
func Overlay(vars map[string]string) Env {
	return Env{ReadFile: os.ReadFile, Getenv: func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		return os.Getenv(name)
	}}
}

// get returns NAME, or the trimmed content of the file NAME_FILE names.
func (e Env) get(name string) (string, error) {
	v := e.Getenv(name)
	file := e.Getenv(name + "_FILE")
	switch {
	case v != "" && file != "":
		return "", &ConfigError{name, "set either " + name + " or " + name + "_FILE, not both"}
	case file != "":
		b, err := e.ReadFile(file)
		if err != nil {
			return "", &ConfigError{name + "_FILE", fmt.Sprintf("cannot read %s: %v", file, err)}
		}
		return strings.TrimSpace(string(b)), nil
	}
	return strings.TrimSpace(v), nil
}

// LoadConfig reads and validates the configuration for `refhub serve`.
// Every problem found is reported, each naming its variable.
func LoadConfig(env Env) (Config, error) {
	var errs []error
	get := func(name, def string) string {
		v, err := env.get(name)
		if err != nil {
			errs = append(errs, err)
		}
		if v == "" {
			return def
		}
		return v
	}
	need := func(name, what string) string {
		v := get(name, "")
		if v == "" {
			errs = append(errs, &ConfigError{name, "required: " + what})
		}
		return v
	}
	c := Config{
		Addr:           get("REFHUB_ADDR", ":8080"),
		PublicURL:      need("REFHUB_PUBLIC_URL", "the public https URL of refhub, e.g. https://refhub.example.com"),
		RedisURL:       need("REFHUB_REDIS_URL", "a redis:// or rediss:// URL, e.g. redis://localhost:6379/0"),
		ClientID:       need("HUBSPOT_CLIENT_ID", "the client id of your HubSpot app (Auth tab of the app)"),
		ClientSecret:   need("HUBSPOT_CLIENT_SECRET", "the client secret of your HubSpot app"),
		EncryptionKeys: need("REFHUB_ENCRYPTION_KEYS", "comma-separated id:base64key entries, each key 32 bytes (openssl rand -base64 32)"),
		SessionSecret:  need("REFHUB_SESSION_SECRET", "at least 32 random characters (openssl rand -base64 48)"),
		APIBase:        get("HUBSPOT_API_BASE", hubspot.DefaultAPIBase),
		AppBase:        get("HUBSPOT_APP_BASE", hubspot.DefaultAppBase),
		RFBase:         get("REFERRAL_FACTORY_BASE", referralfactory.DefaultBase),
		RFAPIBase:      get("REFERRAL_FACTORY_API_BASE", referralfactory.DefaultAPIBase),
		LogLevel:       get("REFHUB_LOG_LEVEL", "info"),
		MetricsAddr:    get("REFHUB_METRICS_ADDR", ""),
		MetricsToken:   get("REFHUB_METRICS_TOKEN", ""),
	}
	errs = append(errs, c.parseTunables(get)...)
	errs = append(errs, c.validate()...)
	return c, errors.Join(errs...)
}

func (c *Config) parseTunables(get func(name, def string) string) []error {
	var errs []error
	var err error
	if c.RateLimit, c.RateWindow, err = parseRate(get("REFHUB_HUBSPOT_RATE_LIMIT", "100/10s")); err != nil {
		errs = append(errs, &ConfigError{"REFHUB_HUBSPOT_RATE_LIMIT", err.Error()})
	}
	if c.RFRateLimit, c.RFRateWindow, err = parseRate(get("REFERRAL_FACTORY_RATE_LIMIT", "540/1m")); err != nil {
		errs = append(errs, &ConfigError{"REFERRAL_FACTORY_RATE_LIMIT", `API calls per window per Referral Factory account, e.g. "540/1m" (Referral Factory allows 600 a minute)`})
	}
	if c.HubSpotTimeout, err = time.ParseDuration(get("REFHUB_HUBSPOT_TIMEOUT", "20s")); err != nil || c.HubSpotTimeout <= 0 {
		errs = append(errs, &ConfigError{"REFHUB_HUBSPOT_TIMEOUT", "a positive duration such as 20s"})
	}
	if c.RetryFor, err = time.ParseDuration(get("REFHUB_RETRY_FOR", "72h")); err != nil || c.RetryFor <= 0 {
		errs = append(errs, &ConfigError{"REFHUB_RETRY_FOR", "a positive duration such as 72h"})
	}
	if c.Retention, err = time.ParseDuration(get("REFHUB_ACTIVITY_RETENTION", "720h")); err != nil || c.Retention < time.Hour {
		errs = append(errs, &ConfigError{"REFHUB_ACTIVITY_RETENTION", "a duration of at least 1h, such as 720h (30 days)"})
	}
	if c.Workers, err = strconv.Atoi(get("REFHUB_WORKERS", "16")); err != nil || c.Workers < 0 {
		errs = append(errs, &ConfigError{"REFHUB_WORKERS", "a whole number ≥ 0 (0 runs no delivery in this process)"})
	}
	if c.WebhookRate, err = strconv.Atoi(get("REFHUB_WEBHOOK_RATE_LIMIT", "0")); err != nil || c.WebhookRate < 0 {
		errs = append(errs, &ConfigError{"REFHUB_WEBHOOK_RATE_LIMIT", "a whole number of webhook requests per second per source, 0 for no limit"})
	}
	if c.TrustedProxies, err = parseProxies(get("REFHUB_TRUSTED_PROXIES", "")); err != nil {
		errs = append(errs, &ConfigError{"REFHUB_TRUSTED_PROXIES", err.Error()})
	}
	var lerrs []error
	c.Limits, lerrs = parseLimits(get)
	errs = append(errs, lerrs...)
	if v := get("REFHUB_REDIS_CLUSTER", "false"); v != "" {
		if c.RedisCluster, err = strconv.ParseBool(v); err != nil {
			errs = append(errs, &ConfigError{"REFHUB_REDIS_CLUSTER", "true or false"})
		}
	}
	if c.RequireDurableRedis, err = strconv.ParseBool(get("REFHUB_REQUIRE_DURABLE_REDIS", "false")); err != nil {
		errs = append(errs, &ConfigError{"REFHUB_REQUIRE_DURABLE_REDIS", "true or false (true refuses a Redis that can lose queued signups)"})
	}
	return errs
}

// parseRate reads "100" or "100/10s".
func parseRate(s string) (int, time.Duration, error) {
	n, w, found := strings.Cut(s, "/")
	max, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || max < 1 {
		return 0, 0, errors.New(`calls per window, e.g. "100/10s" (HubSpot allows 110 per 10 s per portal)`)
	}
	window := 10 * time.Second
	if found {
		if window, err = time.ParseDuration(strings.TrimSpace(w)); err != nil || window <= 0 {
			return 0, 0, errors.New(`calls per window, e.g. "100/10s"`)
		}
	}
	return max, window, nil
}

func (c *Config) validate() []error {
	var errs []error
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, &ConfigError{"REFHUB_PUBLIC_URL", "an absolute http(s) URL such as https://refhub.example.com"})
		}
	}
	if _, err := referralfactory.New(referralfactory.Config{APIBase: c.RFAPIBase}); err != nil {
		errs = append(errs, &ConfigError{"REFERRAL_FACTORY_API_BASE", "an absolute http(s) URL such as " + referralfactory.DefaultAPIBase})
	}
	for _, v := range []struct{ name, val string }{{"HUBSPOT_API_BASE", c.APIBase}, {"HUBSPOT_APP_BASE", c.AppBase}, {"REFERRAL_FACTORY_BASE", c.RFBase}} {
		if u, err := url.Parse(v.val); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, &ConfigError{v.name, "an absolute http(s) URL"})
		}
	}
	if c.RedisURL != "" {
		if _, err := redisconn.Options(c.RedisURL, c.RedisCluster); err != nil {
			errs = append(errs, &ConfigError{"REFHUB_REDIS_URL", err.Error()})
		}
	}
	if c.EncryptionKeys != "" {
		if _, err := oauth.NewVault(c.EncryptionKeys); err != nil {
			errs = append(errs, &ConfigError{"REFHUB_ENCRYPTION_KEYS", err.Error()})
		}
	}
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		errs = append(errs, &ConfigError{"REFHUB_SESSION_SECRET", "at least 32 characters (openssl rand -base64 48)"})
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		errs = append(errs, &ConfigError{"REFHUB_METRICS_TOKEN", "at least 16 characters (openssl rand -base64 32)"})
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, &ConfigError{"REFHUB_METRICS_ADDR", "a listen address such as 127.0.0.1:9090 or :9090"})
		}
	}
	return errs
}
