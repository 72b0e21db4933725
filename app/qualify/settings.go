package qualify

import (
	"context"
	"errors"
	"net/url"
	"slices"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// Portals loads a portal (for the scopes it granted).
type Portals interface {
	Portal(ctx context.Context, hubID int64) (tenants.Portal, error)
}

// Pipelines lists a portal's deal pipelines.
type Pipelines interface {
	DealPipelines(ctx context.Context, hub int64) ([]hubspot.Pipeline, error)
}

// Properties lists a portal's contact properties.
type Properties interface {
	List(ctx context.Context, hub int64, refresh bool) ([]hubspot.Property, error)
}

// Settings are the operations the API and the settings pages share on a
// source's qualification rule.
type Settings struct {
	Rules      *Rules
	Sender     *Sender
	Portals    Portals
	Pipelines  Pipelines
	Properties Properties
}

// Show returns a source's rule as shown; ok is false when it has none.
func (s *Settings) Show(ctx context.Context, src tenants.Source) (View, bool, error) {
	rule, ok, err := s.Rules.Get(ctx, src.ID)
	if err != nil || !ok {
		return View{}, ok, err
	}
	p, err := s.Portals.Portal(ctx, src.HubID)
	if err != nil {
		return View{}, false, err
	}
	return ViewOf(rule, p), true, nil
}

// Save validates and stores a source's rule.
func (s *Settings) Save(ctx context.Context, src tenants.Source, in Input) (View, error) {
	rule, err := s.Rules.Put(ctx, src, in)
	var ie *InputError
	if errors.As(err, &ie) {
		return View{}, &apperr.Error{Code: apperr.Unprocessable, Message: ie.Msg, Err: err}
	}
	if err != nil {
		return View{}, err
	}
	if rule.When.Object == Deal {
		if err := s.Sender.WatchDealStage(ctx, src, rule.When.Value); err != nil {
			return View{}, err
		}
	}
	p, err := s.Portals.Portal(ctx, src.HubID)
	return ViewOf(rule, p), err
}

// Remove deletes a source's rule.
func (s *Settings) Remove(ctx context.Context, src tenants.Source) error {
	return s.Rules.Delete(ctx, src.ID)
}

// Preview is what a qualification under the rule would send, without
// sending it.
type Preview struct {
	Method      string `json:"method"`
	URL         string `json:"url"` // redacted
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
	When        string `json:"when"`
}

// SampleCode stands for a lead's code in a preview without one.
const SampleCode = "LEADCODE"

// Test returns what a qualification of the lead with code (SampleCode
// when empty) would send under the source's rule; nothing is sent.
func (s *Settings) Test(ctx context.Context, src tenants.Source, code string) (Preview, error) {
	rule, ok, err := s.Rules.Get(ctx, src.ID)
	if err != nil {
		return Preview{}, err
	}
	if !ok {
		return Preview{}, apperr.New(apperr.NotFound, "the source has no qualification rule yet")
	}
	if code == "" {
		code = SampleCode
	}
	return Preview{Method: "POST", URL: Redact(rule.InboundURL), ContentType: "application/x-www-form-urlencoded",
		Body: url.Values{"code": {code}}.Encode(),
		When: "a lead's " + rule.When.Object + " " + rule.When.Property + " becomes " + rule.When.Value}, nil
}

// Choices are what the rule editor offers: the contact properties HubSpot
// reports changes of, with their options, and the deal pipelines with
// their stages (none when the portal did not grant deal access).
type Choices struct {
	Contact         []properties.View  `json:"contact_properties"`
	Pipelines       []hubspot.Pipeline `json:"pipelines"`
	ReconnectNeeded bool               `json:"reconnect_needed"`
}

// Choices loads the pickers' content from the source's portal.
func (s *Settings) Choices(ctx context.Context, src tenants.Source) (Choices, error) {
	var c Choices
	list, err := s.Properties.List(ctx, src.HubID, false)
	if err != nil {
		return c, err
	}
	watched := Watched(Contact)
	for _, p := range list {
		if slices.Contains(watched, p.Name) {
			c.Contact = append(c.Contact, properties.ViewOf(p))
		}
	}
	p, err := s.Portals.Portal(ctx, src.HubID)
	if err != nil {
		return c, err
	}
	if !slices.Contains(p.Scopes, DealScope) {
		c.ReconnectNeeded = true
		return c, nil
	}
	c.Pipelines, err = s.Pipelines.DealPipelines(ctx, src.HubID)
	return c, err
}

// DealPipelines lists a portal's deal pipelines with their stages.
func (h HubSpotDeals) DealPipelines(ctx context.Context, hub int64) ([]hubspot.Pipeline, error) {
	return h.HubSpot.Portal(hub, h.Tokens.Func(hub), h.Limiter).ListPipelines(ctx, hubspot.ObjectDeals)
}
