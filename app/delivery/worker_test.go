package delivery_test

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/delivery"
	"github.com/refhub/refhub/internal/apptest"
)

// workerEnv makes the test binary act as a refhub delivery process (see
// TestMain), so tests can run and SIGKILL real worker processes.
const workerEnv = "REFHUB_TEST_WORKER"

// runWorkerProcess is a refhub delivery process configured like `refhub
// serve` from the environment; it runs until SIGTERM.
func runWorkerProcess() int {
	cfg, err := app.LoadConfig(app.OSEnv)
	if err != nil {
		os.Stderr.WriteString("worker: " + err.Error() + "\n")
		return 2
	}
	lease, _ := time.ParseDuration(os.Getenv("REFHUB_TEST_LEASE_TTL"))
	a, err := app.New(cfg, app.Options{Delivery: delivery.Config{LeaseTTL: lease, BackoffMax: 2 * time.Second}})
	if err != nil {
		os.Stderr.WriteString("worker: " + err.Error() + "\n")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	a.RunWorkers(ctx)
	return 0
}

// startWorker starts a worker process for env's refhub.
func startWorker(t *testing.T, env *apptest.Env, redisURL string, leaseTTL time.Duration) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	c := env.Config
	cmd.Env = append(os.Environ(), workerEnv+"=1",
		"REFHUB_PUBLIC_URL="+c.PublicURL, "REFHUB_REDIS_URL="+redisURL,
		"HUBSPOT_CLIENT_ID="+c.ClientID, "HUBSPOT_CLIENT_SECRET="+c.ClientSecret,
		"REFHUB_ENCRYPTION_KEYS="+c.EncryptionKeys, "REFHUB_SESSION_SECRET="+c.SessionSecret,
		"HUBSPOT_API_BASE="+c.APIBase, "HUBSPOT_APP_BASE="+c.AppBase,
		"REFHUB_WORKERS=4", "REFHUB_LOG_LEVEL=warn", "REFHUB_TEST_LEASE_TTL="+leaseTTL.String())
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}
