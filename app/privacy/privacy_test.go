package privacy_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/privacy"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/referralfactory/rftest"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redisscan"
	"github.com/refhub/refhub/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const hub = 1001

// TestForgottenPeopleLeaveNothing: one person deleted through HubSpot's
// signed privacy deletion, another through forget; afterwards no key or
// value in Redis holds their email addresses, a signup of theirs still
// queued is never sent, and the deletions are recorded without them.
func TestForgottenPeopleLeaveNothing(t *testing.T) {
	ctx := context.Background()
	env := apptest.Start(t, apptest.Options{Clock: apptest.NewClock()})
	env.ConfigureHubSpotWebhooks()
	b := env.Install(hub, 501)
	src := b.CreateSource(hub, "Spring")
	send := func(body string, want int) {
		t.Helper()
		status, out := apptest.Post(t, src.WebhookURL, "application/json", []byte(body))
		require.Equal(t, want, status, "%s", out)
	}
	send(`{"email":"Ann@Example.com","first_name":"Ann"}`, http.StatusAccepted)
	send(`{"email":"bob@example.com","first_name":"Bob"}`, http.StatusAccepted)
	send(`{"email":"carl@example.com","first_name":"Carl"}`, http.StatusAccepted)
	send(`{"first_name":"B","referrer_email":"bob@example.com"}`, http.StatusUnprocessableEntity) // refused: no email
	env.Drain(ctx)
	bob, ok := env.Sim.ContactByEmail(hub, "bob@example.com")
	require.True(t, ok)
	// A newer signup of Ann's waits on the lane when she is forgotten.
	send(`{"email":"ann@example.com","first_name":"Annabel"}`, http.StatusAccepted)

	require.NoError(t, env.Sim.GDPRDeleteContact(hub, bob.ID))
	attempts := env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	require.Len(t, attempts, 1)
	require.Equal(t, http.StatusNoContent, attempts[0].Status)
	_, err := env.App.HubSpotInbox().Drain(ctx)
	require.NoError(t, err)

	var d privacy.Deletion
	b.JSON(http.MethodPost, "/api/v1/forget", map[string]string{"email": " ANN@example.com "}, http.StatusOK, &d)
	assert.Equal(t, 3, d.Records, "Ann's delivered and queued signups, and the key that found her contact (app/leads)")
	env.Drain(ctx)

	ann, ok := env.Sim.ContactByEmail(hub, "ann@example.com")
	require.True(t, ok)
	assert.Equal(t, "Ann", ann.Properties["firstname"], "the queued signup was dropped, not sent")
	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		assert.Empty(t, scanFor(t, env.Redis, email), "nothing of %s is left", email)
	}
	assert.NotEmpty(t, scanFor(t, env.Redis, "carl@example.com"), "others are kept (the scan finds what is there)")
	known, err := env.App.Queue().Known(ctx, hub, src.ID, []string{queue.EmailHash("ann@example.com"),
		queue.EmailHash("bob@example.com"), queue.EmailHash("carl@example.com")})
	require.NoError(t, err)
	assert.Equal(t, []bool{false, false, true}, known, "the record of whom the source delivered forgets them too")
	// No dedupe marker (a hash of Bob's body) is left to confirm a guess:
	// his body is new to refhub again, Carl's is not.
	status, body := apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"email":"bob@example.com","first_name":"Bob"}`))
	assert.Equal(t, http.StatusAccepted, status, "%s", body)
	status, body = apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"email":"carl@example.com","first_name":"Carl"}`))
	assert.Equal(t, http.StatusOK, status, "a duplicate: %s", body)

	var out struct {
		Deletions []privacy.Deletion `json:"deletions"`
	}
	b.JSON(http.MethodGet, "/api/v1/forget", nil, http.StatusOK, &out)
	require.Len(t, out.Deletions, 2)
	assert.Equal(t, "api", out.Deletions[0].Via)
	assert.Equal(t, "hubspot", out.Deletions[1].Via)
	assert.Equal(t, 3, out.Deletions[1].Records, "Bob's signup, his refused request and the key that found his contact")
	assert.Len(t, b.Activity(src.ID, ""), 2, "Carl's signup and Bob's new one are all the activity shows")
}

func TestForgetRefusesWhatIsNotAnEmail(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(hub, 501)
	for _, bad := range []string{"", "ann", "ann@example.com, bob@example.com", "<ann@example.com>"} {
		status, body := b.Do(http.MethodPost, "/api/v1/forget", map[string]string{"email": bad})
		assert.Equal(t, http.StatusBadRequest, status, "%q: %s", bad, body)
	}
	status, _ := apptest.Post(t, env.URL("/api/v1/forget"), "application/json", []byte(`{"email":"ann@example.com"}`))
	assert.Equal(t, http.StatusUnauthorized, status, "only a signed-in member or an API token")
}

// TestForgottenReferrerAndLeadLeaveNothing: a referrer and their lead sent
// by Referral Factory (app/leads indexes, links and counts them); the lead
// forgotten through forget, the referrer through HubSpot's privacy
// deletion; no key or value holds either address afterwards.
func TestForgottenReferrerAndLeadLeaveNothing(t *testing.T) {
	ctx := context.Background()
	clock := apptest.NewClock()
	rf := rftest.NewTestServer(t, rftest.Options{Clock: clock.Now, AllowHTTPWebhooks: true})
	env := apptest.Start(t, apptest.Options{Clock: clock})
	env.ConfigureHubSpotWebhooks()
	b := env.Install(hub, 501)
	src := b.CreateSource(hub, "Spring")
	acct := rf.AddAccount()
	camp, err := rf.AddCampaign(acct.ID, "Spring")
	require.NoError(t, err)
	for _, ev := range []rftest.Event{rftest.EventReferrerJoins, rftest.EventLeadCreated} {
		_, err := rf.AddWebhook(camp.ID, rftest.Webhook{URL: src.WebhookURL, Event: ev})
		require.NoError(t, err)
	}
	rita, err := rf.AddUser(rftest.NewUser{CampaignID: camp.ID, FirstName: "Rita", Email: "rita@example.com"})
	require.NoError(t, err)
	_, err = rf.AddUser(rftest.NewUser{CampaignID: camp.ID, FirstName: "Leo", Email: "leo@example.com", ReferrerID: rita.ID})
	require.NoError(t, err)
	_, err = rf.AddUser(rftest.NewUser{CampaignID: camp.ID, FirstName: "Carl", Email: "carl@example.com", ReferrerID: rita.ID})
	require.NoError(t, err)
	rf.Wait()
	env.Drain(ctx)
	require.NotEmpty(t, scanFor(t, env.Redis, "leo@example.com"), "the lead is known")
	ritaContact, ok := env.Sim.ContactByEmail(hub, "rita@example.com")
	require.True(t, ok)

	b.JSON(http.MethodPost, "/api/v1/forget", map[string]string{"email": "leo@example.com"}, http.StatusOK, nil)
	require.NoError(t, env.Sim.GDPRDeleteContact(hub, ritaContact.ID))
	env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	_, err = env.App.HubSpotInbox().Drain(ctx)
	require.NoError(t, err)
	env.Drain(ctx)

	for _, email := range []string{"leo@example.com", "rita@example.com"} {
		assert.Empty(t, scanFor(t, env.Redis, email), "nothing of %s is left", email)
	}
	assert.NotEmpty(t, scanFor(t, env.Redis, "carl@example.com"), "another lead is kept")
}

// scanFor returns every key whose name or value holds s (case-insensitive).
func scanFor(t *testing.T, rdb redis.UniversalClient, s string) []string {
	t.Helper()
	hits, err := redisscan.Holding(context.Background(), rdb, s)
	require.NoError(t, err)
	return hits
}
