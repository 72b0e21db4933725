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
	fmt.Fprintf(stdout, "re-encrypted the tokens of %d portals, the secrets of %d sources and %d qualification URLs with the primary key\n", r.Portals, r.Sources, r.QualificationRules)
	return nil
}
