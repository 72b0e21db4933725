package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/referralfactory/rftest"
	"github.com/refhub/refhub/internal/apptest"
)

// TestBackfillCommand: `refhub backfill` starts a source's backfill with a
// token read from a file, runs it, draws its progress bar, and the serving
// refhub delivers every user of the campaign; a wrong token or source is a
// clear refusal.
func TestBackfillCommand(t *testing.T) {
	rf := rftest.NewTestServer(t, rftest.Options{})
	acct := rf.AddAccount()
	c, err := rf.AddCampaign(acct.ID, "Spring")
	require.NoError(t, err)
	users, err := rf.SeedCampaign(c.ID, 10, 49, 0) // 500 users: 2 pages
	require.NoError(t, err)
	other, err := rf.AddCampaign(acct.ID, "Other")
	require.NoError(t, err)
	_, err = rf.SeedCampaign(other.ID, 1, 9, 0)
	require.NoError(t, err)

	e := apptest.Start(t, apptest.Options{Delivery: true, Configure: func(c *app.Config) { c.RFAPIBase = rf.APIBase() }})
	b := e.Install(1001, 501)
	src := b.CreateSource(1001, "Referral Factory")
	for k, v := range map[string]string{
		"REFHUB_PUBLIC_URL": e.Config.PublicURL, "REFHUB_REDIS_URL": e.Config.RedisURL,
		"HUBSPOT_CLIENT_ID": e.Config.ClientID, "HUBSPOT_CLIENT_SECRET": e.Config.ClientSecret,
		"REFHUB_ENCRYPTION_KEYS": e.Config.EncryptionKeys, "REFHUB_SESSION_SECRET": e.Config.SessionSecret,
		"HUBSPOT_API_BASE": e.Config.APIBase, "REFERRAL_FACTORY_API_BASE": rf.APIBase(), "REFHUB_LOG_LEVEL": "error",
	} {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "token"), filepath.Join(dir, "wrong")
	require.NoError(t, os.WriteFile(good, []byte(acct.Token+"\n"), 0o600))
	require.NoError(t, os.WriteFile(bad, []byte("wrong-token"), 0o600))

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"backfill", "--source", src.ID, "--token-file", bad}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "Referral Factory refused the API token (401")
	code = run(context.Background(), []string{"backfill", "--source", "src_nope"}, &out, &errOut)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut.String(), "no source src_nope")

	out.Reset()
	errOut.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = run(ctx, []string{"backfill", "--source", src.ID, "--campaign", itoa(c.ID), "--token-file", good}, &out, &errOut)
	require.Equal(t, 0, code, "stderr: %s", errOut.String())
	assert.Contains(t, out.String(), "backfill done: 510 users read, 500 of the campaign, 500 queued for delivery.")
	assert.Contains(t, out.String(), "100%", "the progress bar was drawn to the end")
	assert.Contains(t, out.String(), "510/510")
	assert.NotContains(t, out.String()+errOut.String(), acct.Token)
	apptest.Eventually(t, 30*time.Second, "every user delivered", func() bool { return len(e.Sim.Contacts(1001)) == len(users) })
	for _, ct := range e.Sim.Contacts(1001) {
		assert.False(t, strings.Contains(ct.Properties["email"], "-"+itoa(other.ID)+"-"), "a user of the other campaign")
	}

	// A source that sends no referrers: the summary counts them as not sent.
	b.JSON(http.MethodPatch, "/api/v1/sources/"+src.ID, map[string]any{"send": map[string]string{"referrers": "nothing"}}, http.StatusOK, nil)
	out.Reset()
	code = run(ctx, []string{"backfill", "--source", src.ID, "--campaign", itoa(other.ID)}, &out, &errOut)
	require.Equal(t, 0, code, "stderr: %s", errOut.String())
	assert.Contains(t, out.String(), "backfill done: 510 users read, 10 of the campaign, 9 queued for delivery, 1 not sent (of a kind the source sends nothing to HubSpot for).")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
