// Command refhub runs refhub: the HubSpot app that turns Referral Factory
// signups into HubSpot contacts.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/refhub/refhub/app"
)

const usage = `refhub — Referral Factory signups into HubSpot contacts.

Usage:
  refhub serve         Run refhub for production: HTTP server and delivery workers.
                       Configured from the environment (see README, "Configuration");
                       refuses to start without Redis, HubSpot credentials and secrets.
  refhub dev           Run everything on this machine with nothing but Go: an ephemeral
                       in-process Redis (unless REFHUB_REDIS_URL is set), a simulated
                       HubSpot, generated secrets. Prints the URL to open.
  refhub hubspot-sim   Serve the HubSpot simulator alone (for tests and demos).
                       Flags: refhub hubspot-sim --help
  refhub rf-sim        Serve a Referral Factory simulator with demo users, and print its
                       API token and inbound qualify URL, to try backfill and
                       qualification locally. Flags: refhub rf-sim --help
  refhub reseal        Re-encrypt every stored token and secret with the primary key of
                       REFHUB_ENCRYPTION_KEYS (after adding a new key in front), so the
                       old key can be removed. Safe to run while refhub is serving.
  refhub backfill --source ID [--campaign N] [--token-file F] [--reconcile]
                       Bring in a source's earlier Referral Factory users through its API
                       (or, with --reconcile, only those refhub never delivered) and show
                       the progress. Configured from the environment, like serve.
  refhub hubspot-project --public-url URL [--out DIR]
                       Write the HubSpot developer project (platform 2026.03) for this
                       refhub: app, redirect URL, scopes, webhooks. Then: hs project upload.
                       Flags: refhub hubspot-project --help
  refhub healthcheck   Probe a running refhub's /healthz (container health checks).
  refhub bench         Measure refhub beside its baselines on this machine (needs redis-server)
                       and print a table; -out BENCHMARKS.md writes it, -quick is a smoke run.
  refhub version       Print the version.
  refhub --help        This help.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "dev":
		err = dev(ctx, args[1:], stdout, stderr)
	case "hubspot-sim":
		err = hubspotSim(ctx, args[1:], stdout, stderr)
	case "rf-sim":
		err = rfSim(ctx, args[1:], stdout, stderr)
	case "reseal":
		err = reseal(ctx, stdout, stderr)
	case "backfill":
		err = backfillCmd(ctx, args[1:], stdout, stderr)
	case "hubspot-project":
		err = hubspotProject(ctx, args[1:], stdout, stderr)
	case "healthcheck":
		err = healthcheck(ctx, args[1:], stdout, stderr)
	case "bench":
		err = benchCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "refhub", app.Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "refhub: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		var ce *app.ConfigError
		var ue usageError
		if errors.As(err, &ce) || errors.As(err, &ue) || strings.HasPrefix(err.Error(), "configuration:") {
			fmt.Fprintln(stderr, "refhub:", err)
			return 2
		}
		fmt.Fprintln(stderr, "refhub:", err)
		return 1
	}
	return 0
}

// usageError is a command line that cannot run as given: exit status 2,
// like a bad configuration.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stderr, "refhub serve: runs refhub; configuration comes from the environment (README, Configuration).\n")
		return nil
	}
	a, err := fromEnvironment(stderr)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// fromEnvironment builds refhub from the configuration in the environment,
// logging to stderr.
func fromEnvironment(stderr io.Writer) (*app.App, error) {
	cfg, err := app.LoadConfig(app.OSEnv)
	if err != nil {
		return nil, fmt.Errorf("configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return app.New(cfg, app.Options{Logger: newLogger(stderr, cfg.LogLevel)})
}
