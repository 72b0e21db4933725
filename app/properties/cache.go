// Package properties knows each portal's HubSpot contact properties: the
// cache of their definitions (Cache), the one rule for what a value becomes
// for a property's type (Coerce), used by delivery to adapt values and by
// the mapping editor to warn about them, the properties refhub recommends,
// and the editor's view of a portal's properties.
package properties

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// propertyTTL is how long a portal's property definitions are cached.
const propertyTTL = 10 * time.Minute

// Tokens hands out a portal's access tokens, as the HubSpot client takes
// them.
type Tokens interface {
	Func(hubID int64) hubspot.TokenFunc
}

// Cache holds each portal's contact property definitions, in memory and in
// Redis (shared by replicas), so the mapping editor and delivery do not
// list them on every use. Listing costs a call under the portal's rate
// limit. It owns the key {p:<hub>}:props.
type Cache struct {
	rdb     redis.UniversalClient
	hs      *hubspot.Client
	tokens  Tokens
	limiter *ratelimit.Limiter
	now     func() time.Time
	mu      sync.Mutex
	mem     map[int64]cachedProps
	failed  map[int64]failure // recent listing failures, to not retry on every use
}

type failure struct {
	err error
	at  time.Time
}

// failureTTL is how long a failed listing is remembered.
const failureTTL = 30 * time.Second

type cachedProps struct {
	defs map[string]hubspot.Property
	list []hubspot.Property
	at   time.Time
}

// New returns an empty cache that lists properties through hs, under lim.
func New(rdb redis.UniversalClient, hs *hubspot.Client, tokens Tokens, lim *ratelimit.Limiter, now func() time.Time) *Cache {
	return &Cache{rdb: rdb, hs: hs, tokens: tokens, limiter: lim, now: now,
		mem: map[int64]cachedProps{}, failed: map[int64]failure{}}
}

func propsKey(hub int64) string { return tenants.PortalKey(hub, "props") }

// Properties returns a portal's property definitions by name.
func (c *Cache) Properties(ctx context.Context, hub int64) (map[string]hubspot.Property, error) {
	p, err := c.load(ctx, hub, false)
	return p.defs, err
}

// List returns a portal's properties in HubSpot's order; refresh bypasses
// the cache (the mapping editor's refresh button).
func (c *Cache) List(ctx context.Context, hub int64, refresh bool) ([]hubspot.Property, error) {
	p, err := c.load(ctx, hub, refresh)
	return p.list, err
}

// Drop forgets a portal's cached properties (after refhub created some).
func (c *Cache) Drop(ctx context.Context, hub int64) {
	c.mu.Lock()
	delete(c.mem, hub)
	c.mu.Unlock()
	c.rdb.Del(ctx, propsKey(hub))
}

func (c *Cache) load(ctx context.Context, hub int64, refresh bool) (cachedProps, error) {
	c.mu.Lock()
	p, ok := c.mem[hub]
	c.mu.Unlock()
	if ok && !refresh && c.now().Sub(p.at) < propertyTTL {
		return p, nil
	}
	var list []hubspot.Property
	raw, err := c.rdb.Get(ctx, propsKey(hub)).Bytes()
	if err == nil && !refresh && json.Unmarshal(raw, &list) == nil {
		return c.keep(hub, list), nil
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return cachedProps{}, err
	}
	c.mu.Lock()
	f, failedRecently := c.failed[hub]
	c.mu.Unlock()
	if failedRecently && !refresh && c.now().Sub(f.at) < failureTTL {
		return cachedProps{}, f.err
	}
	list, err = c.hs.Portal(hub, c.tokens.Func(hub), c.limiter).ListProperties(ctx)
	if err != nil {
		c.mu.Lock()
		c.failed[hub] = failure{err: err, at: c.now()}
		c.mu.Unlock()
		return cachedProps{}, err
	}
	c.mu.Lock()
	delete(c.failed, hub)
	c.mu.Unlock()
	if raw, err := json.Marshal(list); err == nil {
		c.rdb.Set(ctx, propsKey(hub), raw, propertyTTL)
	}
	return c.keep(hub, list), nil
}

func (c *Cache) keep(hub int64, list []hubspot.Property) cachedProps {
	p := cachedProps{defs: make(map[string]hubspot.Property, len(list)), list: list, at: c.now()}
	for _, d := range list {
		p.defs[d.Name] = d
	}
	c.mu.Lock()
	c.mem[hub] = p
	c.mu.Unlock()
	return p
}
