package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/refhub/refhub/app"
)

// reseal re-encrypts stored secrets with the primary encryption key.
func reseal(ctx context.Context, stdout, stderr io.Writer) error {
	cfg, err := app.LoadConfig(app.OSEnv)
	if err != nil {
		return fmt.Errorf("configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	a, err := app.New(cfg, app.Options{Logger: newLogger(stderr, cfg.LogLevel)})
	if err != nil {
		return err
	}
	r, err := a.Reseal(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-encrypted the tokens of %d portals and the secrets of %d sources with the primary key\n", r.Portals, r.Sources)
	return nil
}
