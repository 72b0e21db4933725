package workspace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/tenants"
)

// Sources are the operations on a workspace's Referral Factory sources.
// Every change goes through tenants.SourceCache, which drops the cached
// copies the webhook and delivery read.
type Sources struct {
	d       *Deps
	events  *Events
	portals *Portals
}

// Load returns source id of workspace ws; another workspace's answers
// apperr.NotFound.
func (o *Sources) Load(ctx context.Context, ws, id string) (tenants.Source, error) {
	src, err := o.d.Store.WorkspaceSource(ctx, ws, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return src, apperr.New(apperr.NotFound, "no such source")
	}
	return src, err
}

// List returns the workspace's sources member who may see.
func (o *Sources) List(ctx context.Context, ws string, who tenants.Member) ([]tenants.Source, error) {
	all, err := o.d.Store.Sources(ctx, ws)
	return slices.DeleteFunc(all, func(s tenants.Source) bool { return !who.SeesSource(s) }), err
}

// checkName trims a source's name and refuses an empty or long one.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", apperr.New(apperr.Unprocessable, "give the source a name of 1 to 100 characters")
	}
	return name, nil
}

// Create adds a source sending to portal p.
func (o *Sources) Create(ctx context.Context, p tenants.Portal, name string) (tenants.Source, error) {
	name, err := checkName(name)
	if err != nil {
		return tenants.Source{}, err
	}
	src, err := o.d.Store.CreateSource(ctx, p.WorkspaceID, p.HubID, name)
	if err != nil {
		return src, err
	}
	return src, o.d.Queue.Register(ctx, p.HubID)
}

// SourcePatch is what PATCH changes of a source; nil (or "" in Send)
// leaves a setting as it is.
type SourcePatch struct {
	Name  *string       `json:"name"`
	HubID *int64        `json:"hub_id"`
	Send  *tenants.Send `json:"send"`
}

// Patch renames a source (name), moves its default route to another
// portal of the workspace that member who may change (hub), or changes
// which kinds of signup it sends to HubSpot (send).
func (o *Sources) Patch(ctx context.Context, who tenants.Member, src tenants.Source, p SourcePatch) (tenants.Source, error) {
	if p.Name != nil {
		n, err := checkName(*p.Name)
		if err != nil {
			return src, err
		}
		src.Name = n
	}
	if p.Send != nil {
		send, err := patchSend(src, *p.Send)
		if err != nil {
			return src, err
		}
		src.Send = send
	}
	if p.HubID != nil {
		if _, err := o.d.Store.WorkspacePortal(ctx, src.WorkspaceID, *p.HubID); err != nil || !who.Writes(*p.HubID) {
			return src, apperr.New(apperr.Unprocessable, "that portal is not connected to this workspace")
		}
		src.HubID = *p.HubID
		if err := o.d.Queue.Register(ctx, *p.HubID); err != nil {
			return src, err
		}
	}
	return o.d.Sources.Save(ctx, src)
}

// patchSend is src's send settings changed by p (a choice p leaves empty
// stays as it is). A kind the deal settings make deals for cannot send
// nothing: the admin changes both on the Deals tab, or the deals first.
func patchSend(src tenants.Source, p tenants.Send) (tenants.Send, error) {
	if err := p.Validate(); err != nil {
		return src.Send, err
	}
	send := src.Send.Normalized()
	if p.Referrers != "" {
		send.Referrers = p.Referrers
	}
	if p.Leads != "" {
		send.Leads = p.Leads
	}
	var probs []string
	for _, lead := range []bool{false, true} {
		if send.Of(lead) == tenants.SendNothing && src.Deals.For(lead) {
			probs = append(probs, fmt.Sprintf("send.%s: this source makes a deal for each of its %s; take %q out of the deal settings' create_for first (or choose Nothing on the Deals tab)",
				tenants.KindName(lead), tenants.KindName(lead), tenants.DealKind(lead)))
		}
	}
	if len(probs) > 0 {
		return src.Send, &tenants.ValidationError{Problems: probs, Of: tenants.SendSettingsError}
	}
	return send, nil
}

// Delete removes a source and its webhook URL; its activity, dead letters
// and its people in the lead index go with it.
func (o *Sources) Delete(ctx context.Context, src tenants.Source) error {
	if err := o.d.Sources.Delete(ctx, src); err != nil {
		return err
	}
	o.d.Redis.Del(ctx, testCounterKey(src.ID))
	for _, own := range o.d.Owners {
		if err := own.PurgeSource(ctx, src); err != nil {
			return err
		}
	}
	if o.d.Backfill != nil {
		if err := o.d.Backfill.PurgeSource(ctx, src.ID); err != nil {
			return err
		}
	}
	if o.d.Leads != nil {
		if err := o.d.Leads.PurgeSource(ctx, src.AllPortals(), src.ID); err != nil {
			return err
		}
	}
	return o.d.Queue.PurgeSource(ctx, src.AllPortals(), src.ID)
}

// Rotate gives a source a new webhook URL; the old one stops working.
func (o *Sources) Rotate(ctx context.Context, src tenants.Source) (tenants.Source, error) {
	return o.d.Sources.Rotate(ctx, src)
}

// SetSecret gives a source a new shared secret, required from then on in
// the header (tenants.DefaultSecretHeader when empty) of every webhook
// request.
func (o *Sources) SetSecret(ctx context.Context, src tenants.Source, header string) (tenants.Source, error) {
	if err := validHeaderName(header); err != nil {
		return src, err
	}
	src.SecretName, src.Secret = header, tenants.NewSecret()
	return o.d.Sources.Save(ctx, src)
}

// RemoveSecret stops requiring a shared secret.
func (o *Sources) RemoveSecret(ctx context.Context, src tenants.Source) (tenants.Source, error) {
	src.SecretName, src.Secret = "", ""
	return o.d.Sources.Save(ctx, src)
}

// validHeaderName accepts an HTTP header name (letters, digits, -), or empty
// for the default.
func validHeaderName(h string) error {
	if len(h) > 64 {
		return apperr.New(apperr.Unprocessable, "the header name is longer than 64 characters")
	}
	for _, r := range h {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return apperr.New(apperr.Unprocessable, "a header name has only letters, digits and dashes, e.g. X-Refhub-Secret")
		}
	}
	return nil
}

// normalized gives a mapping its defaults: the update policy, and an empty
// set of default values rather than none.
func normalized(m tenants.Mapping) tenants.Mapping {
	if m.OnExisting == "" {
		m.OnExisting = tenants.Update
	}
	if m.Defaults == nil {
		m.Defaults = map[string]string{}
	}
	return m
}

// SaveMapping checks m and stores it as the default mapping (idx -1) or as
// the mapping of route idx; it returns m as stored.
func (o *Sources) SaveMapping(ctx context.Context, src tenants.Source, idx int, m tenants.Mapping) (tenants.Mapping, error) {
	m = normalized(m)
	if idx >= 0 {
		routes := append([]tenants.Route(nil), src.Routes...)
		routes[idx].Mapping = m
		// The source's own routes: authorized with the source.
		_, err := o.saveRoutes(ctx, func(int64) bool { return true }, src, routes)
		return m, err
	}
	if err := m.Validate(); err != nil {
		return m, err
	}
	src.Mapping = m
	_, err := o.d.Sources.Save(ctx, src)
	return m, err
}

// SaveRoutes replaces a source's campaign routes after checking each
// route's portal belongs to the workspace, member who may change it, and
// its mapping is valid.
func (o *Sources) SaveRoutes(ctx context.Context, who tenants.Member, src tenants.Source, routes []tenants.Route) (tenants.Source, error) {
	return o.saveRoutes(ctx, who.Writes, src, routes)
}

func (o *Sources) saveRoutes(ctx context.Context, writes func(int64) bool, src tenants.Source, routes []tenants.Route) (tenants.Source, error) {
	seen := map[string]bool{}
	for i, r := range routes {
		r.CampaignID = strings.TrimSpace(r.CampaignID)
		if r.CampaignID == "" || len(r.CampaignID) > 64 {
			return src, apperr.New(apperr.Unprocessable, fmt.Sprintf("route %d: give the Referral Factory campaign id", i+1))
		}
		if seen[r.CampaignID] {
			return src, apperr.New(apperr.Unprocessable, fmt.Sprintf("route %d: campaign %s is routed twice", i+1, r.CampaignID))
		}
		seen[r.CampaignID] = true
		if _, err := o.d.Store.WorkspacePortal(ctx, src.WorkspaceID, r.HubID); err != nil || !writes(r.HubID) {
			return src, apperr.New(apperr.Unprocessable, fmt.Sprintf("route %d: portal %d is not connected to this workspace", i+1, r.HubID))
		}
		r.Mapping = normalized(r.Mapping)
		if err := r.Mapping.Validate(); err != nil {
			return src, apperr.New(apperr.Unprocessable, fmt.Sprintf("route %d: %v", i+1, err))
		}
		routes[i] = r
	}
	src.Routes = routes
	saved, err := o.d.Sources.Save(ctx, src)
	if err != nil {
		return src, err
	}
	for _, h := range saved.Portals() {
		if err := o.d.Queue.Register(ctx, h); err != nil {
			return saved, err
		}
	}
	return saved, nil
}

// Backlog reads the backlogs of src and its workspace beside their quotas.
func (o *Sources) Backlog(ctx context.Context, src tenants.Source) (ingest.Backlog, error) {
	return o.d.Quota.View(ctx, src)
}

// SaveLeadMapping checks m and stores it as the mapping of the source's
// leads; nil removes it (leads then use the referrer mapping again).
func (o *Sources) SaveLeadMapping(ctx context.Context, src tenants.Source, m *tenants.Mapping) (tenants.Source, error) {
	if m != nil {
		nm := normalized(*m)
		if err := nm.Validate(); err != nil {
			return src, err
		}
		m = &nm
	}
	src.LeadMapping = m
	return o.d.Sources.Save(ctx, src)
}

// SaveLeadRule stores how the source tells leads from referrers; nil
// returns to the built-in rule.
func (o *Sources) SaveLeadRule(ctx context.Context, src tenants.Source, r *tenants.LeadRule) (tenants.Source, error) {
	if r != nil {
		rule := tenants.LeadRule{Field: strings.TrimSpace(r.Field)}
		for _, v := range r.Values {
			if v = strings.TrimSpace(v); v != "" {
				rule.Values = append(rule.Values, v)
			}
		}
		if err := rule.Validate(); err != nil {
			return src, err
		}
		r = &rule
	}
	src.LeadRule = r
	return o.d.Sources.Save(ctx, src)
}
