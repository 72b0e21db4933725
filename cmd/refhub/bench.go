package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/refhub/refhub/internal/bench"
)

// benchCmd runs `refhub bench`: refhub beside its baselines, in one run.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "refhub bench [-quick] [-only sections] [-out BENCHMARKS.md] [-cpuprofile FILE]\n\n"+
			"Measures refhub beside its baselines on this machine (needs redis-server on PATH):\n"+
			"ingest, delivery, leads, deals, portals, refresh, footprint. The full run takes a few minutes.\n\n")
		fs.PrintDefaults()
	}
	quick := fs.Bool("quick", false, "a smoke run with tiny numbers (seconds; the figures mean nothing)")
	only := fs.String("only", "", "comma-separated sections to run: "+strings.Join(bench.Sections, ","))
	out := fs.String("out", "", "also write the results, machine and date as Markdown into `FILE` (between its markers, if it has them)")
	cpu := fs.String("cpuprofile", "", "write CPU profiles of the ingest maximum-throughput runs to `FILE` (refhub) and FILE.baseline")
	verbose := fs.Bool("v", true, "print progress to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cfg := bench.Config{Quick: *quick, Serve: []string{exe, "serve"}, CPUProfile: *cpu}
	if *only != "" {
		cfg.Only = strings.Split(*only, ",")
	}
	if *verbose {
		cfg.Log = stderr
	}
	rep, err := bench.Run(ctx, cfg)
	if rep != nil && len(rep.Rows) > 0 {
		rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if *out != "" {
		if err := rep.WriteMarkdown(*out); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "refhub bench: wrote", *out)
	}
	return nil
}
