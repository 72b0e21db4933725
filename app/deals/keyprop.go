package deals

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/refhub/refhub/hubspot"
)

// ensureKeyProperty creates KeyProperty in the portal once.
func (s *Service) ensureKeyProperty(ctx context.Context, hub int64, api API) error {
	n, err := s.rdb.Exists(ctx, keyPropertyKey(hub)).Result()
	if err != nil || n == 1 {
		return err
	}
	if err := createKeyProperty(ctx, api); err != nil {
		return err
	}
	return s.rdb.Set(ctx, keyPropertyKey(hub), "1", 0).Err()
}

// createKeyProperty creates KeyProperty; one that exists already is fine.
func createKeyProperty(ctx context.Context, api API) error {
	if _, err := api.CreatePropertyOf(ctx, hubspot.ObjectDeals, keyPropertyDef); err != nil {
		var ce *hubspot.ConflictError
		if !errors.As(err, &ce) {
			return fmt.Errorf("create the deal property %s: %w", KeyProperty, err)
		}
	}
	return nil
}

// recreateKeyProperty creates KeyProperty again: an admin deleted it in
// HubSpot, which now refuses every deal naming it. Once per Write, so a
// portal that keeps refusing it dead-letters the deals with HubSpot's
// reason instead of looping.
func (w *writer) recreateKeyProperty(ctx context.Context) error {
	w.recreated = true
	return createKeyProperty(ctx, w.api)
}

// retryOnce runs call, and once more after recreating KeyProperty if
// HubSpot refused the call because the property does not exist.
func (w *writer) retryOnce(ctx context.Context, call func() error) error {
	err := call()
	if err == nil || w.recreated || !keyMissing(err) {
		return err
	}
	if rerr := w.recreateKeyProperty(ctx); rerr != nil {
		return rerr
	}
	return call()
}

// keyMissing reports whether HubSpot refused a write or read because
// KeyProperty does not exist in the portal: a PROPERTY_DOESNT_EXIST value
// error naming it, or a refusal of it as idProperty.
func keyMissing(err error) bool {
	var ve *hubspot.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	for _, p := range ve.Properties {
		if p.Property == KeyProperty && p.Code == "PROPERTY_DOESNT_EXIST" {
			return true
		}
	}
	m := strings.ToLower(ve.Message)
	return strings.Contains(m, KeyProperty) &&
		(strings.Contains(m, "does not exist") || strings.Contains(m, "doesn't exist") || strings.Contains(m, "property_doesnt_exist"))
}

// keyRefused is err, or, when it says KeyProperty does not exist although
// refhub just created it again, a *SettingsError saying what to check.
func keyRefused(err error) error {
	if !keyMissing(err) {
		return err
	}
	return &SettingsError{Code: "DEAL_KEY_PROPERTY_REFUSED",
		Text: fmt.Sprintf("The contact is in HubSpot, but its deal was not made: HubSpot refused refhub's deal property %s, even after refhub created it again (%v).", KeyProperty, err),
		Fix:  fmt.Sprintf("In HubSpot (Settings → Properties → Deal properties), check that %s exists with unique values and is not being deleted by a workflow or another app. Then replay the dead letters.", KeyProperty)}
}
