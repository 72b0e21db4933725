package deploy_test

import (
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// composeFile is the part of compose.yaml the tests read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       map[string]string `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Secrets     []string          `yaml:"secrets"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	StopGracePeriod string   `yaml:"stop_grace_period"`
	Ports           []string `yaml:"ports"`
	Volumes         []string `yaml:"volumes"`
	DependsOn       map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

// refhubServices are the services that run the refhub image.
func (c composeFile) refhubServices() map[string]composeService {
	out := map[string]composeService{}
	for name, s := range c.Services {
		if s.Build["dockerfile"] == "Dockerfile" {
			out[name] = s
		}
	}
	return out
}

// TestComposeRunsTwoReplicasOnDurableRedis: compose.yaml runs two refhub
// replicas configured only with variables refhub reads, secrets as files,
// health checked by `refhub healthcheck`, behind Caddy, on a Redis that
// keeps what it accepts, with metrics on their own port scraped by
// Prometheus. (`docker compose config` needs Docker's compose plugin, which
// a test machine may lack; this reads the file itself.)
func TestComposeRunsTwoReplicasOnDurableRedis(t *testing.T) {
	var c composeFile
	readYAML(t, "compose.yaml", &c)
	refhubs := c.refhubServices()
	require.Len(t, refhubs, 2, "two refhub replicas")
	redisSvc, ok := c.Services["redis"]
	require.True(t, ok)

	for name, s := range refhubs {
		t.Run(name, func(t *testing.T) {
			checkVariables(t, "compose.yaml "+name, s.Environment)
			for v, file := range s.Environment {
				if !strings.HasSuffix(v, "_FILE") {
					continue
				}
				secretName := path.Base(file)
				assert.Equal(t, "/run/secrets/"+secretName, file, "%s names a compose secret", v)
				assert.Contains(t, s.Secrets, secretName, "%s's secret is given to the service", v)
				require.Contains(t, c.Secrets, secretName)
				assert.Equal(t, "./secrets/"+secretName, c.Secrets[secretName].File)
			}
			for _, v := range []string{"HUBSPOT_CLIENT_SECRET_FILE", "REFHUB_ENCRYPTION_KEYS_FILE", "REFHUB_SESSION_SECRET_FILE",
				"REFHUB_PUBLIC_URL", "HUBSPOT_CLIENT_ID", "REFHUB_REDIS_URL", "REFHUB_METRICS_ADDR"} {
				assert.Contains(t, s.Environment, v, "what refhub serve needs")
			}
			assert.Equal(t, "true", s.Environment["REFHUB_REQUIRE_DURABLE_REDIS"], "this Redis is durable: insist on it")
			assert.Equal(t, []string{"CMD", "/usr/local/bin/refhub", "healthcheck"}, s.Healthcheck.Test)
			grace, err := time.ParseDuration(s.StopGracePeriod)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, grace, 60*time.Second, "long enough to finish requests and a delivery round")
			assert.Empty(t, s.Ports, "refhub is reached through Caddy only")
			assert.Equal(t, "service_healthy", s.DependsOn["redis"].Condition)
			assert.Regexp(t, `^redis://redis:6379/`, s.Environment["REFHUB_REDIS_URL"])
		})
	}
	dockerfile, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	assert.Contains(t, string(dockerfile), "/usr/local/bin/refhub", "the health check's binary is where the image puts it")

	assert.Empty(t, redisSvc.Ports, "Redis is not reachable from outside")
	assert.Contains(t, redisSvc.Volumes, "redis-data:/data", "Redis keeps its files on a volume")
	assert.Contains(t, c.Volumes, "redis-data")
	require.NotEmpty(t, redisSvc.Command)
	assert.Equal(t, "redis-server", redisSvc.Command[0])
	args := strings.Join(redisSvc.Command, " ")
	for _, want := range []string{"--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction"} {
		assert.Contains(t, args, want)
	}
	assertDurable(t, "compose.yaml", redisSvc.Command[1:])

	addr := refhubs["refhub-1"].Environment["REFHUB_ADDR"]
	metrics := refhubs["refhub-1"].Environment["REFHUB_METRICS_ADDR"]
	assert.NotEqual(t, port(t, addr), port(t, metrics), "metrics are not on the public port")
	checkCaddy(t, refhubs, port(t, addr))
	checkPrometheusScrapes(t, refhubs, port(t, metrics))
}

// checkCaddy: Caddy sends the site to every replica on refhub's port,
// health-checked on a route refhub serves, and never serves /metrics.
func checkCaddy(t *testing.T, refhubs map[string]composeService, httpPort string) {
	t.Helper()
	raw, err := os.ReadFile("Caddyfile")
	require.NoError(t, err)
	caddy := string(raw)
	m := regexp.MustCompile(`reverse_proxy ([^{\n]+)\{`).FindStringSubmatch(caddy)
	require.NotNil(t, m, "Caddyfile has a reverse_proxy block")
	var want []string
	for name := range refhubs {
		want = append(want, name+":"+httpPort)
	}
	assert.ElementsMatch(t, want, strings.Fields(m[1]))
	assert.Contains(t, caddy, "respond /metrics 404")
	health := regexp.MustCompile(`health_uri (\S+)`).FindStringSubmatch(caddy)
	require.NotNil(t, health)
	assertRoutesServe(t, health[1])
}

// checkPrometheusScrapes: prometheus.yml scrapes every replica on the
// metrics port and loads the alert rules compose mounts.
func checkPrometheusScrapes(t *testing.T, refhubs map[string]composeService, metricsPort string) {
	t.Helper()
	var p struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "prometheus/prometheus.yml", &p)
	require.Len(t, p.ScrapeConfigs, 1)
	assert.Equal(t, "refhub", p.ScrapeConfigs[0].JobName, "the job the RefhubDown alert names")
	var targets, want []string
	for _, sc := range p.ScrapeConfigs[0].StaticConfigs {
		targets = append(targets, sc.Targets...)
	}
	for name := range refhubs {
		want = append(want, name+":"+metricsPort)
	}
	assert.ElementsMatch(t, want, targets)
	assert.Equal(t, []string{"/etc/prometheus/alerts.yaml"}, p.RuleFiles)
	var c composeFile
	readYAML(t, "compose.yaml", &c)
	assert.Contains(t, c.Services["prometheus"].Volumes, "./prometheus/alerts.yaml:/etc/prometheus/alerts.yaml:ro")
	assert.Contains(t, c.Services["grafana"].Volumes, "./grafana/refhub.json:/var/lib/grafana/dashboards/refhub.json:ro")
}

// TestComposeSecretsStayOutOfGit: the secrets folder ignores everything but
// its generator, and the generator writes each secret compose reads.
func TestComposeSecretsStayOutOfGit(t *testing.T) {
	ignore, err := os.ReadFile("secrets/.gitignore")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^\*$`, string(ignore))
	gen, err := os.ReadFile("secrets/generate")
	require.NoError(t, err)
	var c composeFile
	readYAML(t, "compose.yaml", &c)
	for name := range c.Secrets {
		assert.Contains(t, string(gen), name, "secrets/generate creates or asks for %s", name)
	}
}
