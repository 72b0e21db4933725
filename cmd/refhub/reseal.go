package main

import (
	"context"
	"fmt"
	"io"
)

// reseal re-encrypts stored secrets with the primary encryption key.
func reseal(ctx context.Context, stdout, stderr io.Writer) error {
	a, err := fromEnvironment(stderr)
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
