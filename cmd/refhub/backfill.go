package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/tenants"
)

// backfillCmd starts a backfill (or reconcile) of a source and shows its
// progress until it ends; this process runs it too, beside refhub's
// replicas, which deliver what it queues.
func backfillCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	srcID := fs.String("source", "", "the source's id (src_…), as the settings app and the API show it")
	campaign := fs.Int64("campaign", 0, "only this Referral Factory campaign's users (default: every campaign)")
	tokenFile := fs.String("token-file", "", "a file holding the Referral Factory API token (default: the token the source holds)")
	reconcile := fs.Bool("reconcile", false, "send only the users refhub never delivered")
	fs.Usage = func() {
		fmt.Fprint(stderr, "refhub backfill --source ID [--campaign N] [--token-file F] [--reconcile]\n\n"+
			"Brings in a source's Referral Factory users through its API (pages of 250, inside the API's limit shared by\n"+
			"every replica) and shows the progress. Configured from the environment, like refhub serve.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if *srcID == "" {
		return usageError{errors.New("backfill: give --source ID")}
	}
	req := backfill.Request{CampaignID: *campaign, Mode: backfill.Backfill}
	if *reconcile {
		req.Mode = backfill.Reconcile
	}
	if *tokenFile != "" {
		raw, err := os.ReadFile(*tokenFile)
		if err != nil {
			return usageError{fmt.Errorf("backfill: --token-file: %w", err)}
		}
		req.Token = strings.TrimSpace(string(raw))
	}
	a, err := fromEnvironment(stderr)
	if err != nil {
		return err
	}
	src, err := a.Store().Source(ctx, *srcID)
	if errors.Is(err, tenants.ErrNotFound) {
		return usageError{fmt.Errorf("backfill: no source %s", *srcID)}
	}
	if err != nil {
		return err
	}
	bf := a.Backfills()
	if _, err := bf.Start(ctx, src, req); err != nil {
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.Conflict {
			return fmt.Errorf("backfill: %w", err)
		}
		fmt.Fprintln(stdout, "A backfill of this source is already running: following it.")
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go bf.Run(runCtx)
	return follow(ctx, bf, src, stdout)
}

// follow shows the job's progress as a terminal progress bar until it
// ends (or ctx does: the job carries on, on refhub's replicas).
func follow(ctx context.Context, bf *backfill.Service, src tenants.Source, stdout io.Writer) error {
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(stdout), progressbar.OptionSetDescription("users read"),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(stdout) }))
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := bf.Status(ctx, src)
		if err != nil {
			return err
		}
		if st.Total > 0 && bar.GetMax() != st.Total {
			bar.ChangeMax(st.Total)
		}
		desc := "users read"
		if st.WaitingOn != "" {
			desc = "waiting on " + st.WaitingOn
		}
		bar.Describe(desc)
		_ = bar.Set(st.Done)
		switch st.Status {
		case backfill.Done:
			_ = bar.Finish()
			fmt.Fprintf(stdout, "%s done: %d users read, %d of the campaign, %d queued for delivery", st.Mode, st.Done, st.Matched, st.Queued)
			if st.Refused > 0 {
				fmt.Fprintf(stdout, ", %d without an email (see the source's activity)", st.Refused)
			}
			if st.NotSent > 0 {
				fmt.Fprintf(stdout, ", %d not sent (of a kind the source sends nothing to HubSpot for)", st.NotSent)
			}
			fmt.Fprintln(stdout, ".")
			return nil
		case backfill.Failed:
			_ = bar.Exit()
			fmt.Fprintln(stdout)
			return fmt.Errorf("backfill failed: %s", st.Error)
		}
		select {
		case <-ctx.Done():
			_ = bar.Exit()
			fmt.Fprintf(stdout, "\nStopped following; the %s carries on on refhub's replicas (refhub backfill --source %s follows it again).\n", st.Mode, src.ID)
			return nil
		case <-tick.C:
		}
	}
}
