package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// RecommendedGroup is the property group refhub creates for its properties.
var RecommendedGroup = hubspot.PropertyGroup{Name: "referral_factory", Label: "Referral Factory"}

// recommended is one property refhub recommends, with the Referral Factory
// fields it is usually fed from (the first one the last payload has wins).
type recommended struct {
	prop hubspot.Property
	from []string
}

// Recommended are the properties "Create recommended properties" creates.
var recommendedProps = []recommended{
	{hubspot.Property{Name: "rf_referral_link", Label: "Referral link", Type: "string", FieldType: "text",
		Description: "The contact's Referral Factory referral link."}, []string{"url", "referral_link", "referral_url", "share_url", "link"}},
	{hubspot.Property{Name: "rf_referral_code", Label: "Referral code", Type: "string", FieldType: "text",
		Description: "The contact's Referral Factory referral code."}, []string{"code", "referral_code"}},
	{hubspot.Property{Name: "rf_referral_count", Label: "Referral count", Type: "number", FieldType: "number",
		Description: "How many people the contact referred."}, []string{"referrals_count", "referral_count", "referrals"}},
	{hubspot.Property{Name: "rf_converted_referral_count", Label: "Converted referral count", Type: "number", FieldType: "number",
		Description: "How many of the contact's referrals converted."}, []string{"converted_referrals_count", "converted_referral_count", "qualified_referrals_count"}},
	{hubspot.Property{Name: "rf_campaign_name", Label: "Referral campaign", Type: "string", FieldType: "text",
		Description: "The Referral Factory campaign the contact joined."}, []string{"campaign_name", "campaign.name", "campaign"}},
	{hubspot.Property{Name: "rf_referral_source", Label: "Referral source", Type: "string", FieldType: "text",
		Description: "How the contact joined Referral Factory (Direct, Referred, Widget, …)."}, []string{"source", "user_source"}},
	{hubspot.Property{Name: "rf_signed_up_at", Label: "Referral signup date", Type: "date", FieldType: "date",
		Description: "When the contact registered for a referral link."}, []string{"signed_up_at", "created_at", "joined_at"}},
}

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
	if _, err := api.CreateGroup(ctx, RecommendedGroup); err != nil && !isConflict(err) {
		return src, res, a.hubspotProblem(ctx, src.HubID, err)
	}
	for _, r := range recommendedProps {
		if _, ok := existing[r.prop.Name]; ok {
			res.Existed = append(res.Existed, r.prop.Name)
			continue
		}
		p := r.prop
		p.GroupName, p.FormField = RecommendedGroup.Name, true
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
	src.Mapping = withRecommended(src.Mapping, last)
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

// withRecommended adds a row for every recommended property the mapping
// does not map yet, reading the field the last payload has.
func withRecommended(m tenants.Mapping, last *queue.Event) tenants.Mapping {
	mapped := map[string]bool{}
	for _, f := range m.Fields {
		mapped[f.To] = true
	}
	var pl *payload.Payload
	if last != nil {
		pl = payload.New(last.Payload)
	}
	for _, r := range recommendedProps {
		if mapped[r.prop.Name] {
			continue
		}
		from := r.from[0]
		if pl != nil {
			for _, cand := range r.from {
				if _, ok := pl.Get(cand); ok {
					from = cand
					break
				}
			}
		}
		m.Fields = append(m.Fields, tenants.FieldMap{From: from, To: r.prop.Name})
	}
	return m
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
