package workspace

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// TestSignup sends a plus-addressed signup through the real pipeline
// (ingest.Build, as a webhook would): the last payload Referral Factory sent
// (or a typical one), with the email replaced by the admin's address plus
// "+rf-test-N".
func (o *Sources) TestSignup(ctx context.Context, src tenants.Source, adminEmail string) (queue.Event, error) {
	local, domain, ok := strings.Cut(strings.TrimSpace(adminEmail), "@")
	if !ok || local == "" || !strings.Contains(domain, ".") {
		return queue.Event{}, apperr.New(apperr.Unprocessable, "give an email address to send the test signup with, e.g. you@yourcompany.com")
	}
	local, _, _ = strings.Cut(local, "+")
	n, err := o.d.Redis.Incr(ctx, testCounterKey(src.ID)).Result()
	if err != nil {
		return queue.Event{}, err
	}
	email := strings.ToLower(local + "+rf-test-" + strconv.FormatInt(n, 10) + "@" + domain)
	last, err := o.events.LastPayload(ctx, src)
	if err != nil {
		return queue.Event{}, err
	}
	fields := TypicalSignup(n)
	if last != nil {
		fields = append([]payload.Field(nil), last.Payload...)
	}
	fields = setEmail(fields, emailPath(src.Mapping), email)
	ev, err := ingest.Build(&src, payload.New(fields), o.d.Now().UTC())
	var ne *tenants.NoEmailError
	if errors.As(err, &ne) {
		return queue.Event{}, apperr.New(apperr.Unprocessable, "the mapping cannot build a contact from a signup: "+ne.Problem)
	}
	if err != nil {
		return queue.Event{}, err
	}
	ev.Test = true
	if _, _, err := o.d.Intake.Submit(ctx, ev, "test:"+ev.ID); err != nil {
		return queue.Event{}, err
	}
	return *ev, nil
}

// testCounterKey numbers a source's test signups.
func testCounterKey(srcID string) string { return "{s:" + srcID + "}:testn" }

// TypicalSignup is what Referral Factory sends for a new referrer, in its
// user-object vocabulary, for sources that received nothing yet.
func TypicalSignup(n int64) []payload.Field {
	code := fmt.Sprintf("TEST%d", n)
	return []payload.Field{
		{Path: "first_name", Value: "Test"}, {Path: "email", Value: ""},
		{Path: "code", Value: code}, {Path: "url", Value: "https://referral-factory.com/r/" + code},
		{Path: "campaign_name", Value: "Test campaign"}, {Path: "source", Value: "Test"},
		{Path: "type", Value: "person_referring"}, {Path: "referrals_count", Value: "0"},
		{Path: "converted_referrals_count", Value: "0"}, {Path: "signed_up_at", Value: "2026-01-01 00:00:00"},
	}
}

// emailPath is the payload field the mapping reads the email from.
func emailPath(m tenants.Mapping) string {
	for _, f := range m.Fields {
		if f.To == "email" {
			return f.From
		}
	}
	return "email"
}

func setEmail(fields []payload.Field, path, email string) []payload.Field {
	for i, f := range fields {
		if strings.EqualFold(f.Path, path) {
			fields[i].Value = email
			return fields
		}
	}
	return append(fields, payload.Field{Path: path, Value: email})
}

// NotSentNote says what becomes of a test signup of a kind src sends
// nothing to HubSpot for ("" for a kind it sends).
func NotSentNote(src tenants.Source, ev queue.Event) string {
	if src.Sends(ev.Lead) {
		return ""
	}
	return "This source sends no " + tenants.KindName(ev.Lead) + " to HubSpot: the test signup is stored and shows in the activity as not sent, and nothing is written in HubSpot."
}
