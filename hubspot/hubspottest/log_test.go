package hubspottest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

func TestRequestLog(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.RateLimit = 4 })
	tk := e.install(hubAcme, userAdmin)
	e.refresh(tk.RefreshToken)
	e.postForm(introPath, clientForm("token", tk.AccessToken))
	e.postJSON(upsertPath, tk.AccessToken, inputs(upsertInput("a@x.test", map[string]string{}), upsertInput("b@x.test", map[string]string{})))
	e.postJSON(readPath, tk.AccessToken, readBody("email", nil, "a@x.test", "zz@x.test"))
	e.postJSON(createPath, tk.AccessToken, inputs(createInput("", map[string]string{"email": "a@x.test"})))
	e.get(propsPath, tk.AccessToken)
	e.get(groupsPath, tk.AccessToken)
	e.postJSON("/crm/objects/2026-03/contacts/batch/archive", tk.AccessToken, `{}`)
	e.postForm(revokePath, clientForm("token", tk.RefreshToken))

	log := e.s.Requests()
	var got []string
	for _, r := range log {
		got = append(got, fmt.Sprintf("%s %d %d %d %s", r.Endpoint, r.HubID, r.Status, r.Inputs, r.Category))
	}
	assert.Equal(t, []string{
		"oauth.authorize 1001 302 0 ",
		"oauth.token 1001 200 0 ",
		"oauth.token 1001 200 0 ",
		"oauth.introspect 1001 200 0 ",
		"contacts.batch.upsert 1001 200 2 ",
		"contacts.batch.read 1001 207 2 OBJECT_NOT_FOUND",
		"contacts.batch.create 1001 409 1 CONFLICT",
		"properties.list 1001 200 0 ",
		"groups.list 1001 429 0 RATE_LIMIT",
		"unknown 0 404 0 OBJECT_NOT_FOUND",
		"oauth.revoke 1001 204 0 ",
	}, got)
	assert.Equal(t, http.MethodPost, log[4].Method)
	assert.Equal(t, upsertPath, log[4].Path)
	assert.Equal(t, e.clock.Now(), log[4].Time)

	assert.Equal(t, 4, e.s.Count(func(r hubspottest.Request) bool { return r.Status >= 400 || r.Status == 207 }))
	assert.Equal(t, 1, e.s.TokenGrants(hubAcme, "authorization_code"))
	assert.Equal(t, 1, e.s.TokenGrants(hubAcme, "refresh_token"))

	e.s.ResetLog()
	assert.Empty(t, e.s.Requests())
	assert.Equal(t, 1, e.s.TokenGrants(hubAcme, "refresh_token"), "grant counters survive ResetLog")

	e.postForm(tokenPath, clientForm("grant_type", "refresh_token", "refresh_token", "bad"))
	assert.Equal(t, "BAD_REFRESH_TOKEN", e.s.Requests()[0].Category)
}

func TestPortalsAndSeedHelpers(t *testing.T) {
	s := hubspottest.New(hubspottest.Options{})
	s.AddPortal(hubspottest.Portal{HubID: 3003})
	ps := s.Portals()
	require.Len(t, ps, 1)
	assert.Equal(t, "hub-3003.example.com", ps[0].Domain)
	assert.Equal(t, []hubspottest.User{{ID: 1, Email: "admin@hub-3003.example.com"}}, ps[0].Users)
	assert.Equal(t, "", s.URL())

	c := s.SeedContact(3003, map[string]string{"email": "Seed@X.test", "hs_analytics_source": "OFFLINE"})
	assert.Equal(t, "seed@x.test", c.Properties["email"])
	assert.Equal(t, c.ID, c.Properties["hs_object_id"])
	assert.Equal(t, "OFFLINE", c.Properties["hs_analytics_source"], "seeding bypasses read-only checks")
	assert.Panics(t, func() { s.SeedContact(3003, map[string]string{"email": "SEED@x.test"}) })
	assert.Panics(t, func() { s.SeedContact(1, nil) })
	assert.Panics(t, func() { s.IssueTokens(3003, 99, nil) })
	assert.Nil(t, s.Contacts(1))
	_, ok := s.ContactByEmail(3003, "nobody@x.test")
	assert.False(t, ok)

	s.AddPortal(hubspottest.Portal{HubID: 3003, Domain: "renamed.test"})
	assert.Equal(t, "renamed.test", s.Portals()[0].Domain)
	assert.Len(t, s.Contacts(3003), 1, "re-adding keeps data")
}

func TestListenAndServe(t *testing.T) {
	s := hubspottest.New(hubspottest.Options{})
	s.AddPortal(hubspottest.Portal{HubID: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, "127.0.0.1:0") }()
	require.Eventually(t, func() bool { return s.URL() != "" }, 5*time.Second, 5*time.Millisecond)
	at, _ := s.IssueTokens(1, 1, nil)
	req, err := http.NewRequest(http.MethodGet, s.URL()+propsPath, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+at)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	cancel()
	require.NoError(t, <-done)

	assert.Error(t, hubspottest.New(hubspottest.Options{}).ListenAndServe(context.Background(), "256.0.0.1:bad"))
}

func TestConcurrentUpsertsAreConsistent(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.RateLimit = 1 << 20 })
	tokens := []string{e.token(hubAcme), e.install(hubAcme, userOps).AccessToken}
	const workers, perWorker = 16, 25
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	errs := make(chan string, workers*perWorker)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				// Every worker writes the same 10 emails, so creates race with updates.
				body := fmt.Sprintf(`{"inputs":[{"id":"c%d@x.test","idProperty":"email","properties":{"firstname":"w%d"}}]}`, i%10, w)
				req, _ := http.NewRequest(http.MethodPost, e.s.URL()+upsertPath, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tokens[w%2])
				res, err := client.Do(req)
				if err != nil {
					errs <- err.Error()
					continue
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					errs <- res.Status
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	assert.Len(t, e.s.Contacts(hubAcme), 10, "no duplicate contacts under concurrency")
	assert.Equal(t, workers*perWorker, e.s.Count(func(r hubspottest.Request) bool { return r.Endpoint == "contacts.batch.upsert" }))
}
