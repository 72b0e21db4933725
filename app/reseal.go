package app

import "context"

// ResealReport counts what Reseal rewrote.
type ResealReport struct {
	Portals, Sources int
}

// Reseal re-encrypts every stored secret — portal tokens, webhook tokens
// and shared secrets — with the primary key of REFHUB_ENCRYPTION_KEYS, so
// older keys can then be removed from it. Each owner walks its own keys.
func (a *App) Reseal(ctx context.Context) (ResealReport, error) {
	var r ResealReport
	var err error
	if r.Portals, err = a.tokens.ResealAll(ctx); err != nil {
		return r, err
	}
	r.Sources, err = a.store.ResealSources(ctx)
	return r, err
}
