package referralfactory_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/app/referralfactory/rftest"
	"github.com/refhub/refhub/internal/clocktest"
)

func TestBlockedIPIsATypedLongDelay(t *testing.T) {
	e := newEnv(t, rftest.Options{RateLimit: 1})
	ctx := context.Background()
	var err error
	for abuse := 1; abuse <= 4; abuse++ {
		for i := 0; i < 2; i++ {
			_, err = e.account().Users(ctx, 1, 10)
		}
		if abuse < 4 {
			var rl *referralfactory.RateLimitError
			require.ErrorAs(t, err, &rl, "abuse %d", abuse)
		}
		e.clock.Advance(time.Minute)
	}
	var bl *referralfactory.BlockedError
	require.ErrorAs(t, err, &bl, "the fourth abuse blocks the IP")
	assert.Equal(t, 7*24*time.Hour, bl.Delay())
	_, err = e.account().Users(ctx, 1, 10)
	require.ErrorAs(t, err, &bl)
	assert.Equal(t, 7*24*time.Hour-time.Minute, bl.Delay(), "Retry-After counts down")
	d, retry := referralfactory.RetryDelay(err)
	assert.True(t, retry)
	assert.Equal(t, bl.Delay(), d)
	var ae *referralfactory.AuthError
	assert.NotErrorAs(t, err, &ae, "a block is not a refused token")
}

// answer is a server that always answers status with hdr and body.
func answer(t *testing.T, status int, hdr map[string]string, body string) *referralfactory.Account {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range hdr {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	clock := clocktest.New(t0)
	c, err := referralfactory.New(referralfactory.Config{APIBase: srv.URL + "/api/v2", Clock: clock.Now})
	require.NoError(t, err)
	return c.Account("tok-" + strings.Repeat("z", 20))
}

func TestErrorBodiesOfEveryShape(t *testing.T) {
	ctx := context.Background()
	httpDate := t0.Add(90 * time.Second).Format(http.TimeFormat)

	_, err := answer(t, 429, map[string]string{"Retry-After": httpDate}, `{"message":"Too Many Attempts."}`).Users(ctx, 1, 1)
	var rl *referralfactory.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, 90*time.Second, rl.Delay(), "an HTTP-date Retry-After")

	_, err = answer(t, 429, nil, `<html>slow down</html>`).Users(ctx, 1, 1)
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, time.Minute, rl.Delay(), "no Retry-After: the whole window")

	_, err = answer(t, 422, nil, `{"message":"The given data was invalid.","errors":{"per_page":["The per page may not be greater than 250."]}}`).Users(ctx, 1, 1)
	var ve *referralfactory.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []string{"The per page may not be greater than 250."}, ve.Fields["per_page"], "Laravel's plain string errors")
	assert.Contains(t, err.Error(), "per_page: The per page may not be greater than 250.")

	_, err = answer(t, 403, nil, `{"code":403,"message":"The resource requested is marked for administrators only."}`).Users(ctx, 1, 1)
	var ae *referralfactory.AuthError
	require.ErrorAs(t, err, &ae, "a 403 that is not a block")

	_, err = answer(t, 503, map[string]string{"Retry-After": "7"}, strings.Repeat("<p>maintenance</p>", 100)).Users(ctx, 1, 1)
	var se *referralfactory.ServerError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 7*time.Second, se.Delay())
	assert.LessOrEqual(t, len(se.Message), 310, "a long body is clipped")

	_, err = answer(t, 200, nil, `<html>login</html>`).Users(ctx, 1, 1)
	assert.ErrorContains(t, err, "not a page of users")
	_, err = answer(t, 200, nil, `{"users":[]}`).Users(ctx, 1, 1)
	assert.ErrorContains(t, err, "no data list")

	_, err = answer(t, 410, nil, ``).Users(ctx, 1, 1)
	var base *referralfactory.APIError
	require.ErrorAs(t, err, &base)
	assert.Equal(t, "Gone", base.Message)
	_, retry := referralfactory.RetryDelay(err)
	assert.False(t, retry)
}

func TestLenientUserFields(t *testing.T) {
	body := `{"data":[{"id":"7","campaign_id":3.0,"referrer_id":null,"email":"a@x.test","first_name":null,
		"code":12345,"meta":[{"field":"Age","value":42},{"field":"","value":"dropped"}],"referrals_count":"2"},
		{"id":8,"referrer_id":7,"meta":"not a list"}],
		"meta":{"current_page":1,"last_page":"1","total":2},"links":{"next":null}}`
	p, err := answer(t, 200, nil, body).Users(context.Background(), 1, 2)
	require.NoError(t, err)
	require.Len(t, p.Users, 2)
	u := p.Users[0]
	assert.EqualValues(t, 7, u.ID)
	assert.EqualValues(t, 3, u.CampaignID)
	assert.Zero(t, u.ReferrerID)
	assert.Equal(t, "12345", u.Code)
	assert.Empty(t, u.FirstName)
	require.Len(t, u.Meta, 1)
	assert.Equal(t, "42", u.Meta[0].Text())
	require.NotNil(t, u.ReferralsCount)
	assert.EqualValues(t, 2, *u.ReferralsCount)
	assert.Nil(t, u.ConvertedReferralsCount)
	assert.True(t, p.Users[1].IsLead(), "no type, but a referrer")
	assert.False(t, p.HasNext())
}

func TestTheTokenIsNeverPrinted(t *testing.T) {
	a := answer(t, 401, nil, `{"code":401,"message":"Unauthenticated."}`)
	_, err := a.Users(context.Background(), 1, 1)
	var ae *referralfactory.AuthError
	require.ErrorAs(t, err, &ae)
	secret := strings.Repeat("z", 20)
	for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %#v %s", a, a, a, a)} {
		assert.NotContains(t, s, secret)
	}
	c, err := referralfactory.New(referralfactory.Config{})
	require.NoError(t, err)
	_, err = c.Account("").Users(context.Background(), 1, 1)
	assert.Error(t, err, "no token, no call")
	_, err = c.Account("a\nb").Users(context.Background(), 1, 1)
	assert.Error(t, err)
}

func TestNewRefusesBadBases(t *testing.T) {
	for _, b := range []string{"ftp://x", "referral-factory.com", "https://u:p@x", "https://x/?q=1"} {
		_, err := referralfactory.New(referralfactory.Config{APIBase: b})
		assert.Error(t, err, b)
		_, err = referralfactory.New(referralfactory.Config{Base: b})
		assert.Error(t, err, b)
	}
	c, err := referralfactory.New(referralfactory.Config{})
	require.NoError(t, err)
	assert.Equal(t, referralfactory.DefaultAPIBase, c.APIBase())
	assert.Equal(t, referralfactory.DefaultBase, c.Base())
}

// An API that keeps pointing onwards from an empty page must not keep a
// backfill looping.
func TestEmptyPageHasNoNext(t *testing.T) {
	body := `{"data":[],"meta":{"current_page":7,"last_page":9},"links":{"next":"https://referral-factory.com/api/v2/users?page=8"}}`
	p, err := answer(t, 200, nil, body).Users(context.Background(), 7, 25)
	require.NoError(t, err)
	assert.Equal(t, "https://referral-factory.com/api/v2/users?page=8", p.Links.Next, "links as the API gave them")
	assert.False(t, p.HasNext())
}
