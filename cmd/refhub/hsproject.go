package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/refhub/refhub/hubspot/hsproject"
)

// hubspotProject writes refhub's HubSpot developer-platform project, ready
// for `hs project upload`.
func hubspotProject(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hubspot-project", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `refhub hubspot-project: write the HubSpot developer project for this refhub
(platform `+hsproject.PlatformVersion+`): the app with its redirect URL and scopes, and its webhooks.

Usage: refhub hubspot-project --public-url https://refhub.example.com [--out DIR] [flags]

`)
		fs.PrintDefaults()
	}
	var o hsproject.Options
	fs.StringVar(&o.PublicURL, "public-url", os.Getenv("REFHUB_PUBLIC_URL"), "the https URL HubSpot reaches refhub at: REFHUB_PUBLIC_URL, which is the default")
	out := fs.String("out", "hubspot-project", "the folder to write the project to")
	force := fs.Bool("force", false, "replace the project files in a folder that is not empty (other files stay)")
	fs.BoolVar(&o.Dev, "dev", false, "a development app: accept http://localhost as the public URL")
	fs.StringVar(&o.Name, "name", "refhub", "the project's name in your HubSpot developer account")
	fs.StringVar(&o.Support.SupportEmail, "support-email", "", "the address installing users write to for help")
	fs.StringVar(&o.Support.SupportURL, "support-url", "", "an https page where users get help")
	fs.StringVar(&o.Support.DocumentationURL, "documentation-url", "", "an https page documenting the app")
	fs.StringVar(&o.Support.SupportPhone, "support-phone", "", "a phone number for support")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("hubspot-project: unexpected argument %q (flags start with --)", fs.Arg(0))}
	}
	p, err := hsproject.Build(o)
	if err != nil {
		return usageError{fmt.Errorf("hubspot-project:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))}
	}
	others, err := p.Write(*out, *force)
	if err != nil {
		return fmt.Errorf("hubspot-project: %w", err)
	}
	report(stdout, p, *out, others)
	return nil
}

func report(w io.Writer, p *hsproject.Project, out string, others []string) {
	abs, err := filepath.Abs(out)
	if err != nil {
		abs = out
	}
	fmt.Fprintf(w, "Wrote the HubSpot project (platform %s) to %s:\n", hsproject.PlatformVersion, abs)
	fmt.Fprintf(w, "  %-40s %s\n", hsproject.ProjectFile, "project name and platform version")
	fmt.Fprintf(w, "  %-40s redirect URL %s, %d required scopes\n", hsproject.AppFile,
		p.App.Config.Auth.RedirectURLs[0], len(p.App.Config.Auth.RequiredScopes))
	fmt.Fprintf(w, "  %-40s target %s, %d subscriptions\n", hsproject.WebhooksFile,
		p.Webhooks.Config.Settings.TargetURL, len(p.Webhooks.All()))
	if p.App.Config.Support == nil || p.App.Config.Support.SupportEmail == "" {
		fmt.Fprintln(w, "Note: no --support-email: installing users see no support contact, and a marketplace listing needs one.")
	}
	for _, f := range others {
		fmt.Fprintf(w, "Note: %s is also in the project; HubSpot allows one app and one webhooks component, so remove it if it is an old copy.\n", f)
	}
	if env := os.Getenv("REFHUB_PUBLIC_URL"); env != "" && env != p.PublicURL {
		fmt.Fprintf(w, "Warning: REFHUB_PUBLIC_URL here is %s; refhub must run with REFHUB_PUBLIC_URL=%s, or installs and webhook signatures fail.\n", env, p.PublicURL)
	}
	fmt.Fprintf(w, `
Last step (HubSpot CLI, once: npm install -g @hubspot/cli && hs account auth):
  cd %s && hs project upload
Then, in the app's Auth tab in HubSpot, copy the client id and client secret into HUBSPOT_CLIENT_ID and
HUBSPOT_CLIENT_SECRET, and run refhub with REFHUB_PUBLIC_URL=%s.
`, abs, p.PublicURL)
}
