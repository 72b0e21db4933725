package rftest

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListUsersPagesThroughEveryCampaignIgnoringCampaignID(t *testing.T) {
	f := newFixture(t, Options{}, 3, 2) // 9 users per campaign
	seen := map[int64]int{}
	campaigns := map[int64]int{}
	for page := 1; ; page++ {
		resp, body := f.get(t, "/users?per_page=5&page="+strconv.Itoa(page)+"&campaign_id="+strconv.FormatInt(f.c1.ID, 10), f.acct.Token)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		meta := body["meta"].(map[string]any)
		links := body["links"].(map[string]any)
		assert.EqualValues(t, page, meta["current_page"])
		assert.EqualValues(t, 4, meta["last_page"])
		assert.EqualValues(t, 18, meta["total"])
		assert.EqualValues(t, 5, meta["per_page"])
		for _, u := range body["data"].([]any) {
			m := u.(map[string]any)
			seen[num(m["id"])]++
			campaigns[num(m["campaign_id"])]++
		}
		if page == 4 {
			assert.Len(t, body["data"], 3)
			assert.Nil(t, links["next"])
			break
		}
		next, err := url.Parse(links["next"].(string))
		require.NoError(t, err)
		assert.Equal(t, strconv.Itoa(page+1), next.Query().Get("page"))
		assert.Equal(t, "5", next.Query().Get("per_page"))
	}
	assert.Len(t, seen, 18, "every user once")
	assert.Equal(t, map[int64]int{f.c1.ID: 9, f.c2.ID: 9}, campaigns, "campaign_id is ignored: both campaigns come back")
	assert.Equal(t, 4, f.s.Count(func(r Request) bool { return r.Endpoint == "users.list" && r.CampaignID != "" }))

	resp, body := f.get(t, "/users?per_page=5&page=9", f.acct.Token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body["data"], "past the end: an empty page")
	assert.Nil(t, body["links"].(map[string]any)["next"])
}

func TestListUsersPerPageDefaultMaxAndRefusals(t *testing.T) {
	f := newFixture(t, Options{}, 10, 14) // 150 users per campaign
	_, body := f.get(t, "/users", f.acct.Token)
	assert.Len(t, body["data"], 25, "default per_page")
	assert.EqualValues(t, 12, body["meta"].(map[string]any)["last_page"])
	_, body = f.get(t, "/users?per_page=250", f.acct.Token)
	assert.Len(t, body["data"], 250)

	for _, v := range []string{"251", "1000", "0", "-1", "abc"} {
		resp, body := f.get(t, "/users?per_page="+v, f.acct.Token)
		assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "per_page=%s", v)
		assert.EqualValues(t, 422, body["code"])
		errs := body["errors"].(map[string]any)["per_page"].([]any)
		assert.Equal(t, "per_page", errs[0].(map[string]any)["field"])
		assert.NotEmpty(t, body["message"])
	}
	_, body = f.get(t, "/users?page=zero", f.acct.Token)
	assert.EqualValues(t, 1, body["meta"].(map[string]any)["current_page"], "an unusable page is page 1")
}

func TestListUsersOrderAndAccountIsolation(t *testing.T) {
	f := newFixture(t, Options{Order: NewestFirst}, 2, 1)
	other := f.s.AddAccount()
	oc, err := f.s.AddCampaign(other.ID, "Other")
	require.NoError(t, err)
	_, err = f.s.SeedCampaign(oc.ID, 1, 0, 0)
	require.NoError(t, err)

	_, body := f.get(t, "/users?per_page=250", f.acct.Token)
	data := body["data"].([]any)
	require.Len(t, data, 8)
	assert.Greater(t, num(data[0].(map[string]any)["id"]), num(data[7].(map[string]any)["id"]), "newest first")
	_, body = f.get(t, "/users", other.Token)
	assert.Len(t, body["data"], 1, "an account sees only its own users")
}

func TestUserObjectVocabulary(t *testing.T) {
	f := newFixture(t, Options{}, 0, 0)
	ref, err := f.s.AddUser(NewUser{CampaignID: f.c1.ID, FirstName: "Ann", Email: "ann@example.test",
		Meta: []Meta{{Field: "Phone", Value: "+1 555"}}})
	require.NoError(t, err)
	lead, err := f.s.AddUser(NewUser{CampaignID: f.c1.ID, ReferrerID: ref.ID, FirstName: "Bob", Email: "bob@example.test"})
	require.NoError(t, err)
	f.clock.Advance(time.Hour)
	_, err = f.s.QualifyUser(lead.ID)
	require.NoError(t, err)

	_, body := f.get(t, "/users/ann@example.test", f.acct.Token)
	u := body["data"].(map[string]any)
	assert.EqualValues(t, ref.ID, u["id"])
	assert.Nil(t, u["referrer_id"])
	assert.Equal(t, "person_referring", u["type"])
	assert.Equal(t, "Direct", u["source"])
	assert.Equal(t, ref.Code, u["code"])
	assert.Contains(t, u["url"], ref.Code)
	assert.Equal(t, "2026-03-09T10:00:00.000000Z", u["signed_up_at"])
	assert.Nil(t, u["qualified_at"])
	assert.Equal(t, []any{map[string]any{"field": "Phone", "value": "+1 555"}}, u["meta"])
	assert.EqualValues(t, 1, u["referrals_count"])
	assert.EqualValues(t, 1, u["converted_referrals_count"])

	for _, id := range []string{lead.Code, strconv.FormatInt(lead.ID, 10), "BOB@example.test"} {
		resp, body := f.get(t, "/users/"+url.PathEscape(id), f.acct.Token)
		require.Equal(t, http.StatusOK, resp.StatusCode, id)
		u = body["data"].(map[string]any)
		assert.EqualValues(t, ref.ID, u["referrer_id"])
		assert.Equal(t, "person_invited", u["type"])
		assert.Equal(t, "Referred", u["source"])
		assert.Equal(t, "2026-03-09T11:00:00.000000Z", u["qualified_at"])
	}

	resp, body := f.get(t, "/users/nobody@example.test", f.acct.Token)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.EqualValues(t, 404, body["code"])
	other := f.s.AddAccount()
	resp, _ = f.get(t, "/users/"+ref.Code, other.Token)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "another account's user is not found")
}
