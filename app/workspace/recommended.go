package workspace

import (
	"context"
	"errors"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// RecommendedResult says what "Create recommended properties" did.
type RecommendedResult struct {
	Created []string        `json:"created"`
	Existed []string        `json:"existed"`
	Mapping tenants.Mapping `json:"mapping"`
}

// CreateRecommended creates the Referral Factory property group and the
// recommended properties in the source's portal (skipping any that exist)
// and maps them in the source's default mapping.
func (o *Sources) CreateRecommended(ctx context.Context, src tenants.Source) (tenants.Source, RecommendedResult, error) {
	var res RecommendedResult
	api := o.d.HubSpot.Portal(src.HubID, o.d.Tokens.Func(src.HubID), o.d.Limiter)
	existing, err := o.d.Properties.Properties(ctx, src.HubID)
	if err != nil {
		return src, res, o.portals.hubspotProblem(ctx, src.HubID, err)
	}
	if _, err := api.CreateGroup(ctx, properties.RecommendedGroup); err != nil && !isConflict(err) {
		return src, res, o.portals.hubspotProblem(ctx, src.HubID, err)
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
			o.d.Properties.Drop(ctx, src.HubID)
			return src, res, o.portals.hubspotProblem(ctx, src.HubID, err)
		}
		res.Created = append(res.Created, p.Name)
	}
	o.d.Properties.Drop(ctx, src.HubID)
	last, err := o.events.LastPayload(ctx, src)
	if err != nil {
		return src, res, err
	}
	var sample *payload.Payload
	if last != nil {
		sample = payload.New(last.Payload)
	}
	src.Mapping = properties.WithRecommended(src.Mapping, sample)
	if src, err = o.d.Sources.Save(ctx, src); err != nil {
		return src, res, err
	}
	res.Mapping = src.Mapping
	return src, res, nil
}

func isConflict(err error) bool {
	var ce *hubspot.ConflictError
	return errors.As(err, &ce)
}
