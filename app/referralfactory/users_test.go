package referralfactory_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/app/referralfactory/rftest"
)

func TestUsersPagesToTheEndAndCallerFiltersByCampaign(t *testing.T) {
	e := newEnv(t, rftest.Options{})
	_, err := e.sim.SeedCampaign(e.c1.ID, 4, 2, 2) // 12 users, 4 of 8 leads qualified
	require.NoError(t, err)
	_, err = e.sim.SeedCampaign(e.c2.ID, 3, 1, 0) // 6 users
	require.NoError(t, err)

	ctx := context.Background()
	byID := map[int64]referralfactory.User{}
	pages := 0
	for page := 1; ; page++ {
		p, err := e.account().Users(ctx, page, 5)
		require.NoError(t, err)
		pages++
		assert.Equal(t, page, p.Meta.CurrentPage)
		assert.Equal(t, 4, p.Meta.LastPage)
		assert.Equal(t, 18, p.Meta.Total)
		for _, u := range p.Users {
			byID[u.ID] = u
		}
		if !p.HasNext() {
			assert.Empty(t, p.Links.Next)
			break
		}
		assert.NotEmpty(t, p.Links.Next)
	}
	assert.Equal(t, 4, pages, "calls = pages")
	assert.Equal(t, 4, e.sim.Count(func(r rftest.Request) bool { return r.Endpoint == "users.list" }))
	require.Len(t, byID, 18)

	var inC1, leads, qualified int
	for _, u := range byID {
		if u.CampaignID != e.c1.ID {
			continue
		}
		inC1++
		if u.IsLead() {
			leads++
			assert.NotZero(t, u.ReferrerID)
			assert.Equal(t, referralfactory.TypePersonInvited, u.Type)
			assert.Equal(t, "Referred", u.Source)
		} else {
			require.NotNil(t, u.ReferralsCount)
			assert.EqualValues(t, 2, *u.ReferralsCount)
			assert.EqualValues(t, 1, *u.ConvertedReferralsCount)
		}
		if u.Qualified() {
			qualified++
		}
		require.Len(t, u.Meta, 1)
		assert.Equal(t, "Company", u.Meta[0].Field)
		assert.NotEmpty(t, u.Meta[0].Text())
		var raw map[string]any
		require.NoError(t, json.Unmarshal(u.Raw, &raw), "Raw is the user object as sent")
		assert.Equal(t, u.Email, raw["email"])
		assert.Contains(t, raw, "sharing", "fields the typed view leaves out stay in Raw")
	}
	assert.Equal(t, 12, inC1)
	assert.Equal(t, 8, leads)
	assert.Equal(t, 4, qualified)
}

func TestUsersRefusesBadPagingWithoutACall(t *testing.T) {
	e := newEnv(t, rftest.Options{})
	for _, c := range [][2]int{{1, 251}, {1, 0}, {0, 25}, {-1, 25}} {
		_, err := e.account().Users(context.Background(), c[0], c[1])
		assert.Error(t, err, "page %d per_page %d", c[0], c[1])
	}
	p, err := e.account().Users(context.Background(), 1, referralfactory.MaxPerPage)
	require.NoError(t, err)
	assert.Empty(t, p.Users)
	assert.False(t, p.HasNext())
	assert.Equal(t, 1, len(e.sim.Requests()), "only the valid call reached the API")
}

func TestUserByIdentifier(t *testing.T) {
	e := newEnv(t, rftest.Options{})
	ref, err := e.sim.AddUser(rftest.NewUser{CampaignID: e.c1.ID, FirstName: "Ann", Email: "ann@example.test"})
	require.NoError(t, err)
	for _, id := range []string{"ann@example.test", ref.Code} {
		u, err := e.account().User(context.Background(), id)
		require.NoError(t, err, id)
		assert.Equal(t, ref.ID, u.ID)
		assert.Equal(t, "Ann", u.FirstName)
		assert.Equal(t, referralfactory.TypePersonReferring, u.Type)
		assert.False(t, u.IsLead())
		signed, err := referralfactory.ParseTime(u.SignedUpAt)
		require.NoError(t, err)
		assert.Equal(t, t0, signed)
	}
	_, err = e.account().User(context.Background(), "who@example.test")
	var nf *referralfactory.NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "User not found.", nf.Message)
	_, retry := referralfactory.RetryDelay(err)
	assert.False(t, retry)
}

func TestEveryTypedAnswerFromTheAPI(t *testing.T) {
	e := newEnv(t, rftest.Options{RateLimit: 2})
	ctx := context.Background()

	e.sim.InjectFault(rftest.Fault{Status: http.StatusBadGateway})
	_, err := e.account().Users(ctx, 1, 10)
	var se *referralfactory.ServerError
	require.ErrorAs(t, err, &se)
	d, retry := referralfactory.RetryDelay(err)
	assert.True(t, retry)
	assert.Zero(t, d, "no Retry-After: the caller's backoff")

	for i := 0; i < 2; i++ { // the injected answer took no slot
		_, err = e.account().Users(ctx, 1, 10)
		require.NoError(t, err)
	}
	_, err = e.account().Users(ctx, 1, 10)
	var rl *referralfactory.RateLimitError
	require.ErrorAs(t, err, &rl, "the third call in a minute of two")
	assert.Equal(t, time.Minute, rl.Delay())
	e.clock.Advance(20 * time.Second)
	_, err = e.account().Users(ctx, 1, 10)
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, 40*time.Second, rl.Delay(), "Retry-After counts down with the window")
	d, retry = referralfactory.RetryDelay(err)
	assert.True(t, retry)
	assert.Equal(t, rl.Delay(), d)

	_, err = e.sim.RotateToken(e.acct.ID)
	require.NoError(t, err)
	e.clock.Advance(time.Minute)
	_, err = e.account().Users(ctx, 1, 10)
	var ae *referralfactory.AuthError
	require.ErrorAs(t, err, &ae, "the old token after a rotation")
	assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
	_, retry = referralfactory.RetryDelay(err)
	assert.False(t, retry)
	assert.NotContains(t, err.Error(), e.acct.Token)
	assert.False(t, errors.As(err, &rl))
}

// A backfill-sized read: 10,000 users of one campaign among 10,250 in 41
// calls of 250, inside the burst limit, no 429.
func TestTenThousandUsersInPagesOf250(t *testing.T) {
	e := newEnv(t, rftest.Options{})
	_, err := e.sim.SeedCampaign(e.c1.ID, 100, 99, 0)
	require.NoError(t, err)
	_, err = e.sim.SeedCampaign(e.c2.ID, 50, 4, 0)
	require.NoError(t, err)
	start := time.Now()
	inCampaign := 0
	calls := 0
	for page := 1; ; page++ {
		p, err := e.account().Users(context.Background(), page, referralfactory.MaxPerPage)
		require.NoError(t, err)
		calls++
		for _, u := range p.Users {
			if u.CampaignID == e.c1.ID {
				inCampaign++
			}
		}
		if !p.HasNext() {
			break
		}
	}
	assert.Equal(t, 10000, inCampaign)
	assert.Equal(t, 41, calls)
	assert.Zero(t, e.sim.Count(func(r rftest.Request) bool { return r.RateLimited }))
	t.Logf("10,250 users in %d calls, %s", calls, time.Since(start))
}
