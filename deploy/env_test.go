package deploy_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

// refhubReads is every variable refhub's configuration reads, _FILE
// variants included, learnt by asking LoadConfig itself (so a new variable
// is known here as soon as refhub reads it).
func refhubReads(t *testing.T) map[string]bool {
	t.Helper()
	read := map[string]bool{}
	_, _ = app.LoadConfig(app.Env{
		Getenv:   func(name string) string { read[name] = true; return "" },
		ReadFile: func(string) ([]byte, error) { return nil, errors.New("not read here") },
	})
	require.Contains(t, read, "REFHUB_REDIS_URL", "LoadConfig reads the environment through Getenv")
	return read
}

// checkVariables checks what a deployment file sets for refhub: each name is
// one refhub reads, and a secret is given as a file, never as a value.
func checkVariables(t *testing.T, where string, env map[string]string) {
	t.Helper()
	reads := refhubReads(t)
	for name, value := range env {
		assert.True(t, reads[name], "%s sets %s, which refhub does not read", where, name)
		assert.False(t, secret(name), "%s gives the secret %s as a value: use %s_FILE", where, name, name)
		if name == "REFHUB_REDIS_URL" {
			assert.NotRegexp(t, `://[^/@]*:[^/@]*@`, value, "%s puts a Redis password in REFHUB_REDIS_URL: use REFHUB_REDIS_URL_FILE", where)
		}
	}
}

// secret reports whether a variable holds a secret by its name.
func secret(name string) bool {
	return regexp.MustCompile(`(SECRET|KEYS?|TOKEN|PASSWORD)$`).MatchString(name)
}

// port returns the port of a listen address such as ":8080".
func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err, addr)
	return p
}

// readYAML decodes one YAML file.
func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, v), path)
}

// assertRoutesServe checks that each path is one refhub serves: GET answers
// 200 from a running refhub with its Redis up.
func assertRoutesServe(t *testing.T, paths ...string) {
	t.Helper()
	env := apptest.Start(t, apptest.Options{})
	for _, p := range paths {
		resp, err := http.Get(env.URL(p))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", p)
	}
}

// assertDurable starts redis-server with the arguments a deployment gives
// it and checks that refhub finds nothing that could lose signups.
func assertDurable(t *testing.T, where string, args []string) {
	t.Helper()
	var rest []string
	appendOnly := false
	for i := 0; i < len(args); i++ {
		if args[i] == "--appendonly" && i+1 < len(args) {
			appendOnly = args[i+1] == "yes"
			i++
			continue
		}
		rest = append(rest, args[i])
	}
	srv := redistest.StartT(t, redistest.StartOptions{AppendOnly: appendOnly, Args: rest})
	env := apptest.Start(t, apptest.Options{Redis: &redis.Options{Addr: srv.Addr}})
	d, err := env.App.CheckRedisDurability(context.Background())
	require.NoError(t, err)
	assert.Empty(t, d.Problems, "%s: refhub's check on a redis-server run as %s", where, strings.Join(args, " "))
	assert.Empty(t, d.Unchecked, where)
}
