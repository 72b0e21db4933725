package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// AssociationType is one direction of an association type. HubSpot's
// unlabeled default types have no Label.
type AssociationType struct {
	Category string
	TypeID   int
	Label    string
}

// LabelDefinition is an association label to create between two object
// types: Name is the internal name, Label reads from the first object type
// to the second ("Referred by"), InverseLabel the other way ("Referrer").
type LabelDefinition struct {
	Name         string
	Label        string
	InverseLabel string
}

// LabelPair is a user-defined label seen from both sides: Forward goes from
// the first object type to the second, Inverse back.
type LabelPair struct {
	Forward, Inverse AssociationType
}

type labelJSON struct {
	Category string  `json:"category"`
	TypeID   int     `json:"typeId"`
	Label    *string `json:"label"`
}

func (l labelJSON) associationType() AssociationType {
	t := AssociationType{Category: l.Category, TypeID: l.TypeID}
	if l.Label != nil {
		t.Label = *l.Label
	}
	return t
}

// ListAssociationTypes returns the association types from one object type
// to another, HubSpot's unlabeled default included.
func (p *Portal) ListAssociationTypes(ctx context.Context, fromType, toType string) ([]AssociationType, error) {
	var resp struct {
		Results []labelJSON `json:"results"`
	}
	if _, err := p.call(ctx, http.MethodGet, p.c.associationsPath(fromType, toType, "/labels"), nil, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: list %s-%s association labels: %w", p.hubID, fromType, toType, err)
	}
	out := make([]AssociationType, len(resp.Results))
	for i, l := range resp.Results {
		out[i] = l.associationType()
	}
	return out, nil
}

// CreateAssociationLabel creates a user-defined label (pair) between two
// object types. A name that exists already gives a *ConflictError (or, from
// a HubSpot that words it as a validation failure, a *ValidationError);
// EnsureAssociationLabel handles both.
func (p *Portal) CreateAssociationLabel(ctx context.Context, fromType, toType string, def LabelDefinition) (LabelPair, error) {
	body := struct {
		Name         string `json:"name"`
		Label        string `json:"label"`
		InverseLabel string `json:"inverseLabel,omitempty"`
	}{def.Name, def.Label, def.InverseLabel}
	var resp struct {
		Results []labelJSON `json:"results"`
	}
	if _, err := p.call(ctx, http.MethodPost, p.c.associationsPath(fromType, toType, "/labels"), body, &resp); err != nil {
		return LabelPair{}, fmt.Errorf("portal %d: create association label %q: %w", p.hubID, def.Name, err)
	}
	types := make([]AssociationType, len(resp.Results))
	for i, l := range resp.Results {
		types[i] = l.associationType()
	}
	pair, ok := pickPair(types, types, def, fromType == toType)
	if !ok {
		return LabelPair{}, fmt.Errorf("portal %d: create association label %q: HubSpot answered %d types without the pair", p.hubID, def.Name, len(types))
	}
	return pair, nil
}

// EnsureAssociationLabel finds the label pair by its labels, or creates it:
// safe to call on every start and from several replicas at once, since a
// create that loses the race (or repeats) is answered with a conflict and
// the pair is then read back instead of duplicated.
func (p *Portal) EnsureAssociationLabel(ctx context.Context, fromType, toType string, def LabelDefinition) (LabelPair, error) {
	if pair, ok, err := p.findLabelPair(ctx, fromType, toType, def); err != nil || ok {
		return pair, err
	}
	pair, err := p.CreateAssociationLabel(ctx, fromType, toType, def)
	var conflict *ConflictError
	var invalid *ValidationError
	if err == nil || !errors.As(err, &conflict) && !errors.As(err, &invalid) {
		return pair, err
	}
	found, ok, ferr := p.findLabelPair(ctx, fromType, toType, def)
	switch {
	case ferr != nil:
		return LabelPair{}, ferr
	case ok:
		return found, nil
	case conflict != nil:
		return LabelPair{}, fmt.Errorf("portal %d: association label %q exists with other labels than %q/%q (renamed in HubSpot?): %w",
			p.hubID, def.Name, def.Label, def.InverseLabel, err)
	}
	return LabelPair{}, err
}

func (p *Portal) findLabelPair(ctx context.Context, fromType, toType string, def LabelDefinition) (LabelPair, bool, error) {
	fwd, err := p.ListAssociationTypes(ctx, fromType, toType)
	if err != nil {
		return LabelPair{}, false, err
	}
	back := fwd
	if fromType != toType {
		if back, err = p.ListAssociationTypes(ctx, toType, fromType); err != nil {
			return LabelPair{}, false, err
		}
	}
	pair, ok := pickPair(fwd, back, def, fromType == toType)
	return pair, ok, nil
}

// pickPair finds the user-defined types carrying the label (in fwd) and the
// inverse label (in back), lowest type id first; between one object type
// both directions are listed together and must differ.
func pickPair(fwd, back []AssociationType, def LabelDefinition, same bool) (LabelPair, bool) {
	inverse := def.InverseLabel
	if inverse == "" {
		inverse = def.Label
	}
	find := func(types []AssociationType, label string, not int) (AssociationType, bool) {
		var best AssociationType
		found := false
		for _, t := range types {
			if t.Category == CategoryUserDefined && t.Label == label && (!same || t.TypeID != not) &&
				(!found || t.TypeID < best.TypeID) {
				best, found = t, true
			}
		}
		return best, found
	}
	f, ok := find(fwd, def.Label, -1)
	if !ok {
		return LabelPair{}, false
	}
	b, ok := find(back, inverse, f.TypeID)
	return LabelPair{Forward: f, Inverse: b}, ok
}

// String renders an association type for messages, e.g. "USER_DEFINED/7 Referred by".
func (t AssociationType) String() string {
	s := t.Category + "/" + strconv.Itoa(t.TypeID)
	if t.Label != "" {
		s += " " + t.Label
	}
	return s
}
