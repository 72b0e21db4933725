package systest

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/refhub/refhub/app/install"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/oauth"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// refhubBinary builds cmd/refhub once per test run, the way the Dockerfile
// does (CGO_ENABLED=0).
func refhubBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "refhub-systest-bin-*")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "refhub")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/refhub/refhub/cmd/refhub")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// cluster is a system under test: Redis, the simulator, refhub replicas.
type cluster struct {
	t        *testing.T
	sim      *hubspottest.Server
	redisURL string
	cluster  bool
	env      []string // shared configuration of every replica
	replicas []*replica
	logDir   string
}

// replica is one refhub process.
type replica struct {
	c     *cluster
	idx   int
	addr  string
	extra []string
	cmd   *exec.Cmd
	log   *os.File
}

// URL returns the replica's base URL.
func (r *replica) URL() string { return "http://" + r.addr }

type clusterOptions struct {
	replicas int
	redisURL string
	cluster  bool
	sim      hubspottest.Options
	portals  []hubspottest.Portal
	extraEnv []string
	perProc  func(idx int) []string
}

// startCluster starts the simulator and the refhub replicas.
func startCluster(t *testing.T, o clusterOptions) *cluster {
	t.Helper()
	bin := refhubBinary(t)
	addrs := make([]string, o.replicas)
	for i := range addrs {
		addrs[i] = "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	}
	public := "http://" + addrs[0]
	so := o.sim
	so.ClientID, so.ClientSecret = "systest-client", "systest-secret-value-do-not-leak"
	so.RedirectURIs = []string{oauth.RedirectURI(public)}
	so.RequiredScopes = install.Scopes() // the app as declared in hubspot-app.json
	sim := hubspottest.NewTestServer(t, so)
	for _, p := range o.portals {
		sim.AddPortal(p)
	}
	c := &cluster{t: t, sim: sim, redisURL: o.redisURL, cluster: o.cluster, logDir: t.TempDir()}
	c.env = append([]string{
		"REFHUB_PUBLIC_URL=" + public, "REFHUB_REDIS_URL=" + o.redisURL,
		"HUBSPOT_CLIENT_ID=" + so.ClientID, "HUBSPOT_CLIENT_SECRET=" + so.ClientSecret,
		"REFHUB_ENCRYPTION_KEYS=" + oauth.GenerateKeySpec("sys1"),
		"REFHUB_SESSION_SECRET=systest-session-secret-0123456789abcdefghij",
		"HUBSPOT_API_BASE=" + sim.URL(), "HUBSPOT_APP_BASE=" + sim.URL(),
		"REFHUB_LOG_LEVEL=info",
		"REFHUB_REDIS_CLUSTER=" + strconv.FormatBool(o.cluster),
	}, o.extraEnv...)
	for i, addr := range addrs {
		r := &replica{c: c, idx: i, addr: addr}
		if o.perProc != nil {
			r.extra = o.perProc(i)
		}
		c.replicas = append(c.replicas, r)
		r.start(bin)
	}
	t.Cleanup(func() {
		for _, r := range c.replicas {
			r.stop()
		}
	})
	return c
}

func (r *replica) start(bin string) {
	t := r.c.t
	t.Helper()
	log, err := os.OpenFile(filepath.Join(r.c.logDir, fmt.Sprintf("replica-%d.log", r.idx)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(append(append(os.Environ(), r.c.env...), r.extra...), "REFHUB_ADDR="+r.addr)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.cmd, r.log = cmd, log
	go func() { _ = cmd.Wait() }()
	apptest.Eventually(t, 20*time.Second, fmt.Sprintf("replica %d ready", r.idx), func() bool {
		resp, err := http.Get(r.URL() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// kill stops the replica at once (SIGKILL), as a crash would.
func (r *replica) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	r.waitExit()
}

// stop asks the replica to shut down gracefully.
func (r *replica) stop() {
	if r.cmd == nil || r.cmd.ProcessState != nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	r.waitExit()
}

func (r *replica) waitExit() {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := r.cmd.Process.Signal(syscall.Signal(0)); err != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.log != nil {
		_ = r.log.Close()
	}
}

// restart starts a stopped or killed replica again.
func (r *replica) restart() { r.start(refhubBinary(r.c.t)) }

// logs returns every replica's log lines.
func (c *cluster) logs() []string {
	var out []string
	files, _ := filepath.Glob(filepath.Join(c.logDir, "*.log"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			out = append(out, sc.Text())
		}
		fh.Close()
	}
	return out
}

// grepLogs counts log lines containing s.
func (c *cluster) grepLogs(s string) int {
	n := 0
	for _, l := range c.logs() {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}
