package hubspot_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
)

// readOne makes one small authenticated call.
func readOne(p *hubspot.Portal) error {
	_, err := p.ReadByEmail(context.Background(), []string{"someone@example.com"}, nil)
	return err
}

func TestAuthErrors(t *testing.T) {
	t.Run("expired token", func(t *testing.T) {
		e := newEnv(t)
		e.clock.Advance(31 * time.Minute)
		err := readOne(e.portal)
		var ae *hubspot.AuthError
		require.ErrorAs(t, err, &ae)
		assert.True(t, ae.Expired)
		assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
		assert.Equal(t, "EXPIRED_AUTHENTICATION", ae.Category)
		assert.Contains(t, ae.Message, "expired 1 minute(s) ago")
	})
	t.Run("unknown token", func(t *testing.T) {
		e := newEnv(t)
		err := readOne(e.client.Portal(hubAcme, staticToken("not-a-token"), nil))
		var ae *hubspot.AuthError
		require.ErrorAs(t, err, &ae)
		assert.False(t, ae.Expired)
		assert.Equal(t, "INVALID_AUTHENTICATION", ae.Category)
	})
	t.Run("uninstalled", func(t *testing.T) {
		e := newEnv(t)
		e.sim.Uninstall(hubAcme)
		var ae *hubspot.AuthError
		require.ErrorAs(t, readOne(e.portal), &ae)
		assert.False(t, ae.Expired)
	})
}

func TestScopeError(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sim.IssueTokens(hubAcme, userAdmin, []string{"oauth", "crm.objects.contacts.read"})
	p := e.client.Portal(hubAcme, staticToken(access), nil)

	_, err := p.UpsertByEmail(context.Background(), []hubspot.UpsertInput{{Email: "a@example.com"}})
	var se *hubspot.ScopeError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusForbidden, se.StatusCode)
	assert.Equal(t, "MISSING_SCOPES", se.Category)
	assert.Equal(t, []string{"crm.objects.contacts.write"}, se.RequiredScopes)

	assert.NoError(t, readOne(p), "the granted scope still works")
}

func TestRateLimitFromSimulator(t *testing.T) {
	e := newEnv(t)
	e.sim.SetRateLimit(2, 10*time.Second)
	require.NoError(t, readOne(e.portal))
	require.NoError(t, readOne(e.portal))
	err := readOne(e.portal)

	var rl *hubspot.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, http.StatusTooManyRequests, rl.StatusCode)
	assert.Equal(t, "TEN_SECONDLY_ROLLING", rl.Policy)
	assert.Equal(t, "RATE_LIMITS", rl.Category)
	assert.Equal(t, 10*time.Second, rl.Interval)
	assert.Equal(t, 10*time.Second, rl.Delay())
	assert.NotEmpty(t, rl.CorrelationID)

	assert.Equal(t, 3, e.limiter.Waits(), "one limiter slot per call")
	assert.Equal(t, []hubspot.Announced{
		{Max: 2, Remaining: 1, Interval: 10 * time.Second},
		{Max: 2, Remaining: 0, Interval: 10 * time.Second},
		{Max: 2, Remaining: 0, Interval: 10 * time.Second},
	}, e.limiter.Observed(), "every answer's rate-limit headers reach the limiter, the 429 too")

	e.clock.Advance(10 * time.Second)
	assert.NoError(t, readOne(e.portal), "the window rolls by the simulator clock")
}

func TestRateLimitShapes(t *testing.T) {
	const bodyTen = `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c-1","policyName":"TEN_SECONDLY_ROLLING"}`
	tests := []struct {
		name       string
		body       string
		headers    []string
		policy     string
		category   string
		retryAfter time.Duration
		delay      time.Duration
	}{
		{name: "Retry-After wins", body: bodyTen, headers: []string{"Retry-After", "3", "X-HubSpot-RateLimit-Max", "110",
			"X-HubSpot-RateLimit-Remaining", "0", "X-HubSpot-RateLimit-Interval-Milliseconds", "10000"},
			policy: "TEN_SECONDLY_ROLLING", category: "RATE_LIMITS", retryAfter: 3 * time.Second, delay: 3 * time.Second},
		{name: "interval header", body: bodyTen, headers: []string{"X-HubSpot-RateLimit-Max", "110",
			"X-HubSpot-RateLimit-Interval-Milliseconds", "7000"},
			policy: "TEN_SECONDLY_ROLLING", category: "RATE_LIMITS", delay: 7 * time.Second},
		{name: "secondly", body: `{"status":"error","errorType":"RATE_LIMIT","policyName":"SECONDLY"}`,
			policy: "SECONDLY", category: "RATE_LIMITS", delay: time.Second},
		{name: "daily", body: `{"status":"error","errorType":"RATE_LIMIT","policyName":"DAILY"}`,
			policy: "DAILY", category: "RATE_LIMITS", delay: time.Hour},
		{name: "category only", body: `{"status":"error","category":"RATE_LIMITS","message":"slow down"}`,
			category: "RATE_LIMITS", delay: 10 * time.Second},
		{name: "empty body", body: ``, category: "RATE_LIMITS", delay: 10 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := fakeHubSpot(t, respond(429, tc.body, tc.headers...))
			err := readOne(c.Portal(1, staticToken("t"), nil))
			var rl *hubspot.RateLimitError
			require.ErrorAs(t, err, &rl)
			assert.Equal(t, tc.policy, rl.Policy)
			assert.Equal(t, tc.category, rl.Category)
			assert.Equal(t, tc.retryAfter, rl.RetryAfter)
			assert.Equal(t, tc.delay, rl.Delay())
		})
	}
}

func TestServerErrorsFromSimulator(t *testing.T) {
	tests := []struct {
		status   int
		category string
		delay    time.Duration
	}{
		{status: 423, category: "LOCKED", delay: 2 * time.Second},
		{status: 477, category: "MIGRATION_IN_PROGRESS", delay: 5 * time.Second},
		{status: 500, category: "INTERNAL_ERROR"},
		{status: 502, category: "BAD_GATEWAY"},
		{status: 503, category: "SERVICE_UNAVAILABLE"},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status)+tc.category, func(t *testing.T) {
			e := newEnv(t)
			e.sim.SetFaults(hubspottest.Faults{ErrorRate: 1, Statuses: []int{tc.status}})
			err := readOne(e.portal)
			var se *hubspot.ServerError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.status, se.StatusCode)
			assert.Equal(t, tc.category, se.Category)
			assert.Equal(t, tc.delay, se.Delay())
		})
	}
	t.Run("injected 429", func(t *testing.T) {
		e := newEnv(t)
		e.sim.SetFaults(hubspottest.Faults{ErrorRate: 1, Statuses: []int{429}})
		var rl *hubspot.RateLimitError
		require.ErrorAs(t, readOne(e.portal), &rl)
		assert.Equal(t, "TEN_SECONDLY_ROLLING", rl.Policy)
	})
}

func TestServerErrorShapes(t *testing.T) {
	future := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name    string
		status  int
		body    string
		headers []string
		delay   time.Duration
		approx  bool
	}{
		{name: "477 with Retry-After", status: 477, body: `{"status":"error","category":"MIGRATION_IN_PROGRESS"}`,
			headers: []string{"Retry-After", "9"}, delay: 9 * time.Second},
		{name: "477 without Retry-After", status: 477, body: `{}`, delay: 0},
		{name: "423 without Retry-After", status: 423, body: `{"status":"error","category":"LOCKED"}`, delay: 2 * time.Second},
		{name: "423 with Retry-After", status: 423, body: `{}`, headers: []string{"Retry-After", "4"}, delay: 4 * time.Second},
		{name: "503 with Retry-After", status: 503, body: `{}`, headers: []string{"Retry-After", "7"}, delay: 7 * time.Second},
		{name: "503 with Retry-After date", status: 503, body: `{}`, headers: []string{"Retry-After", future},
			delay: 30 * time.Second, approx: true},
		{name: "502 HTML body", status: 502, body: `<html>Bad gateway</html>`, headers: []string{"Content-Type", "text/html"}},
		{name: "504", status: 504, body: `{"status":"error","category":"GATEWAY_TIMEOUT"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := fakeHubSpot(t, respond(tc.status, tc.body, tc.headers...))
			err := readOne(c.Portal(1, staticToken("t"), nil))
			var se *hubspot.ServerError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.status, se.StatusCode)
			if tc.approx {
				assert.InDelta(t, tc.delay.Seconds(), se.Delay().Seconds(), 3)
			} else {
				assert.Equal(t, tc.delay, se.Delay())
			}
		})
	}
}

func TestErrorBodies(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, err error)
	}{
		{name: "validation JSON in message", status: 400,
			body: `{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Email address example.lcom is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"},{\"isValid\":false,\"message\":\"\\\"x\\\" was not one of the allowed options: [a, b]\",\"error\":\"INVALID_OPTION\",\"name\":\"lifecyclestage\"}]","correlationId":"c-9","category":"VALIDATION_ERROR"}`,
			check: func(t *testing.T, err error) {
				var ve *hubspot.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, []hubspot.PropertyError{
					{Code: "INVALID_EMAIL", Property: "email", Message: "Email address example.lcom is invalid"},
					{Code: "INVALID_OPTION", Property: "lifecyclestage", Message: `"x" was not one of the allowed options: [a, b]`},
				}, ve.Properties)
				assert.Equal(t, "c-9", ve.CorrelationID)
				assert.Contains(t, err.Error(), "hubspot: 400 VALIDATION_ERROR: Property values were not valid")
				assert.Contains(t, err.Error(), "(correlation id c-9)")
			}},
		{name: "validation in errors list", status: 400,
			body: `{"status":"error","message":"Invalid input","category":"VALIDATION_ERROR","errors":[{"message":"abc was not a valid number","code":"INVALID_INTEGER","context":{"propertyName":["discount"]}},{"message":"no code"}]}`,
			check: func(t *testing.T, err error) {
				var ve *hubspot.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, []hubspot.PropertyError{
					{Code: "INVALID_INTEGER", Property: "discount", Message: "abc was not a valid number"},
				}, ve.Properties)
				assert.Len(t, ve.Details, 2)
			}},
		{name: "400 without category", status: 400, body: `Bad Request`,
			check: func(t *testing.T, err error) {
				var ve *hubspot.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, "Bad Request", ve.Message)
				assert.Empty(t, ve.Properties)
			}},
		{name: "409 existing id", status: 409,
			body: `{"status":"error","message":"Contact already exists. Existing ID: 123456789","category":"CONFLICT"}`,
			check: func(t *testing.T, err error) {
				var ce *hubspot.ConflictError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "123456789", ce.ExistingID)
			}},
		{name: "403 missing scopes in context", status: 403,
			body: `{"status":"error","message":"missing scopes","category":"MISSING_SCOPES","errors":[{"message":"One or more","context":{"requiredScopes":["crm.schemas.contacts.write","crm.objects.contacts.write"]}}]}`,
			check: func(t *testing.T, err error) {
				var se *hubspot.ScopeError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, []string{"crm.schemas.contacts.write", "crm.objects.contacts.write"}, se.RequiredScopes)
			}},
		{name: "403 other", status: 403, body: `{"status":"error","message":"no","category":"FORBIDDEN"}`,
			check: func(t *testing.T, err error) {
				var ae *hubspot.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, 403, ae.StatusCode)
				var se *hubspot.ScopeError
				assert.False(t, errors.As(err, &se))
			}},
		{name: "404", status: 404, body: `{"status":"error","message":"nope","category":"OBJECT_NOT_FOUND"}`,
			check: func(t *testing.T, err error) {
				var nf *hubspot.NotFoundError
				require.ErrorAs(t, err, &nf)
				assert.Equal(t, "OBJECT_NOT_FOUND", nf.Category)
			}},
		{name: "long non-JSON body is truncated", status: 400, body: strings.Repeat("x", 1000),
			check: func(t *testing.T, err error) {
				var ve *hubspot.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Len(t, ve.Message, 300)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := fakeHubSpot(t, respond(tc.status, tc.body))
			tc.check(t, readOne(c.Portal(1, staticToken("t"), nil)))
		})
	}
}

func TestMalformedSuccessBody(t *testing.T) {
	c, _ := fakeHubSpot(t, respond(200, `{"results": [`))
	err := readOne(c.Portal(1, staticToken("t"), nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decode")
}

func TestPortalNetworkError(t *testing.T) {
	c := hubspot.New(hubspot.Config{APIBase: closedAddr(t)})
	lim := &countingLimiter{}
	err := readOne(c.Portal(1, staticToken("t"), lim))
	var ne *hubspot.NetworkError
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, "POST /crm/objects/2026-03/contacts/batch/read", ne.Op)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Equal(t, 1, lim.Waits())
	assert.Empty(t, lim.Observed())
}

func TestLimiterWaitOncePerCall(t *testing.T) {
	e := newEnv(t)
	seeded := e.sim.SeedContact(hubAcme, map[string]string{"email": "seed@example.com"})
	ctx := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"upsert", func() error {
			_, err := e.portal.UpsertByEmail(ctx, []hubspot.UpsertInput{{Email: "a@example.com"}})
			return err
		}},
		{"read by email", func() error { _, err := e.portal.ReadByEmail(ctx, []string{"a@example.com"}, nil); return err }},
		{"read by id", func() error { _, err := e.portal.ReadByID(ctx, []string{seeded.ID}, nil); return err }},
		{"create", func() error {
			_, err := e.portal.Create(ctx, []hubspot.CreateInput{{TraceID: "1", Properties: map[string]string{"email": "b@example.com"}}})
			return err
		}},
		{"update", func() error {
			_, _, err := e.portal.Update(ctx, []hubspot.UpdateInput{{ID: seeded.ID, Properties: map[string]string{"firstname": "S"}}})
			return err
		}},
		{"list properties", func() error { _, err := e.portal.ListProperties(ctx); return err }},
		{"create property", func() error {
			_, err := e.portal.CreateProperty(ctx, hubspot.Property{Name: "rf_code", Label: "Code", Type: "string",
				FieldType: "text", GroupName: "contactinformation"})
			return err
		}},
		{"list groups", func() error { _, err := e.portal.ListGroups(ctx); return err }},
		{"create group", func() error {
			_, err := e.portal.CreateGroup(ctx, hubspot.PropertyGroup{Name: "rf", Label: "RF"})
			return err
		}},
	}
	for i, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.call())
			assert.Equal(t, i+1, e.limiter.Waits())
			assert.Len(t, e.rec.Requests(), i+1, "one HTTP request per call")
			obs := e.limiter.Observed()
			require.Len(t, obs, i+1)
			assert.Equal(t, hubspot.Announced{Max: 110, Remaining: 110 - (i + 1), Interval: 10 * time.Second}, obs[i])
		})
	}
	for _, h := range e.limiter.hubs {
		assert.Equal(t, hubAcme, h)
	}
}

func TestLimiterAndTokenFailuresStopTheCall(t *testing.T) {
	e := newEnv(t)
	t.Run("limiter refuses", func(t *testing.T) {
		lim := &countingLimiter{err: context.DeadlineExceeded}
		err := readOne(e.client.Portal(hubAcme, e.tokenFunc(), lim))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "rate limiter")
	})
	t.Run("token unavailable", func(t *testing.T) {
		boom := errors.New("no token")
		lim := &countingLimiter{}
		err := readOne(e.client.Portal(hubAcme, func(context.Context) (string, error) { return "", boom }, lim))
		assert.ErrorIs(t, err, boom)
		assert.Equal(t, 1, lim.Waits(), "the slot is taken before the token is fetched")
	})
	t.Run("nil limiter", func(t *testing.T) {
		assert.NoError(t, readOne(e.client.Portal(hubAcme, e.tokenFunc(), nil)))
	})
	assert.Len(t, e.rec.Requests(), 1, "only the nil-limiter call reached HubSpot")
}

func TestObserveNeedsHeaders(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    []hubspot.Announced
	}{
		{name: "no headers"},
		{name: "max and interval only", headers: []string{"X-HubSpot-RateLimit-Max", "100",
			"X-HubSpot-RateLimit-Interval-Milliseconds", "10000"},
			want: []hubspot.Announced{{Max: 100, Remaining: -1, Interval: 10 * time.Second}}},
		{name: "garbage", headers: []string{"X-HubSpot-RateLimit-Max", "lots",
			"X-HubSpot-RateLimit-Interval-Milliseconds", "10000"}},
		{name: "no calls allowed is no limit", headers: []string{"X-HubSpot-RateLimit-Max", "0",
			"X-HubSpot-RateLimit-Interval-Milliseconds", "10000"}},
		{name: "an empty window is no limit", headers: []string{"X-HubSpot-RateLimit-Max", "100",
			"X-HubSpot-RateLimit-Interval-Milliseconds", "0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := fakeHubSpot(t, respond(200, `{"results":[]}`, tc.headers...))
			lim := &countingLimiter{}
			require.NoError(t, readOne(c.Portal(1, staticToken("t"), lim)))
			assert.Equal(t, tc.want, lim.Observed())
		})
	}
}
