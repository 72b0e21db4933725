package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// RecommendedResult says what "Create recommended properties" did.
type RecommendedResult struct {
	Created []string        `json:"created"`
	Existed []string        `json:"existed"`
	Mapping tenants.Mapping `json:"mapping"`
}

// createRecommended creates the Referral Factory property group and the
// recommended properties in the source's portal (skipping any that exist)
// and maps them in the source's default mapping.
func (a *App) createRecommended(ctx context.Context, src tenants.Source) (tenants.Source, RecommendedResult, error) {
	var res RecommendedResult
	api := a.hs.Portal(src.HubID, a.tokens.Func(src.HubID), a.limiter)
	existing, err := a.props.Properties(ctx, src.HubID)
	if err != nil {
		return src, res, a.hubspotProblem(ctx, src.HubID, err)
	}
	if _, err := api.CreateGroup(ctx, properties.RecommendedGroup); err != nil && !isConflict(err) {
		return src, res, a.hubspotProblem(ctx, src.HubID, err)
	}
	for _, r := range properties.Recommended {
		if _, ok := existing[r.Property.Name]; ok {
			res.Existed = append(res.Existed, r.Property.Name)
			continue
		}
		p := r.Property
		p.GroupName, p.FormField = properties.RecommendedGroup.Name, true
		if _, err := api.CreateProperty(ctx, p); err != nil {
			if isConflict(err) {
				res.Existed = append(res.Existed, p.Name)
				continue
			}
			a.props.Drop(ctx, src.HubID)
			return src, res, a.hubspotProblem(ctx, src.HubID, err)
		}
		res.Created = append(res.Created, p.Name)
	}
	a.props.Drop(ctx, src.HubID)
	last, err := a.lastPayload(ctx, src)
	if err != nil {
		return src, res, err
	}
	var sample *payload.Payload
	if last != nil {
		sample = payload.New(last.Payload)
	}
	src.Mapping = properties.WithRecommended(src.Mapping, sample)
	if src, err = a.sources.Save(ctx, src); err != nil {
		return src, res, err
	}
	res.Mapping = src.Mapping
	return src, res, nil
}

func isConflict(err error) bool {
	var ce *hubspot.ConflictError
	return errors.As(err, &ce)
}

// sendTestSignup sends a plus-addressed signup through the real pipeline:
// the last payload Referral Factory sent (or a typical one), with the email
// replaced by the admin's address plus "+rf-test-N".
func (a *App) sendTestSignup(ctx context.Context, src tenants.Source, adminEmail string) (queue.Event, error) {
	local, domain, ok := strings.Cut(strings.TrimSpace(adminEmail), "@")
	if !ok || local == "" || !strings.Contains(domain, ".") {
		return queue.Event{}, apperr.New(apperr.Unprocessable, "give an email address to send the test signup with, e.g. you@yourcompany.com")
	}
	local, _, _ = strings.Cut(local, "+")
	n, err := a.rdb.Incr(ctx, testCounterKey(src.ID)).Result()
	if err != nil {
		return queue.Event{}, err
	}
	email := strings.ToLower(local + "+rf-test-" + strconv.FormatInt(n, 10) + "@" + domain)
	last, err := a.lastPayload(ctx, src)
	if err != nil {
		return queue.Event{}, err
	}
	fields := typicalSignup(n)
	if last != nil {
		fields = append([]payload.Field(nil), last.Payload...)
	}
	fields = setEmail(fields, emailPath(src.Mapping), email)
	pl := payload.New(fields)
	campaign, _ := pl.Get("campaign_id")
	hub, mapping, route := src.Route(campaign)
	props, err := mapping.Apply(pl)
	if err != nil {
		return queue.Event{}, apperr.New(apperr.Unprocessable, "the mapping cannot build a contact from a signup: "+strings.TrimPrefix(err.Error(), "no email: "))
	}
	now := a.now().UTC()
	ev := &queue.Event{ID: queue.NewEventID(now), SourceID: src.ID, HubID: hub, Route: route, Email: props["email"],
		Status: queue.Queued, ReceivedAt: now, UpdatedAt: now, Payload: fields, Test: true}
	if _, _, err := a.queue.Enqueue(ctx, ev, "test:"+ev.ID); err != nil {
		return queue.Event{}, err
	}
	a.engine.Wake()
	return *ev, nil
}

// testCounterKey numbers a source's test signups.
func testCounterKey(srcID string) string { return "{s:" + srcID + "}:testn" }

// typicalSignup is what Referral Factory sends for a new referrer, in its
// user-object vocabulary, for sources that received nothing yet.
func typicalSignup(n int64) []payload.Field {
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

// contactURL links to a contact in HubSpot.
func (a *App) contactURL(hub int64, contactID string) string {
	if contactID == "" {
		return ""
	}
	return fmt.Sprintf("%s/contacts/%d/record/0-1/%s", strings.TrimRight(a.cfg.AppBase, "/"), hub, contactID)
}
