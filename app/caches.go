package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// sourceTTL bounds how stale a cached source may be if an invalidation
// message is lost.
const sourceTTL = 30 * time.Second

// sourceCache keeps recently used sources in memory for the webhook and the
// delivery engine. Changes are announced on tenants.SourcesChannel and drop
// the cached copy in every replica.
type sourceCache struct {
	store   *tenants.RedisStore
	now     func() time.Time
	mu      sync.Mutex
	byID    *lru[cachedSource]
	byTok   *lru[string]    // token hash -> id
	missing *lru[time.Time] // hashes of tokens Redis did not know, and when
}

// missingTTL is how long a token Redis did not know is answered 404 from
// memory: a deleted source's webhook, still called, costs one lookup a
// minute.
const missingTTL = time.Minute

// sourcesCached bounds the sources a replica keeps in memory; beyond, the
// one used least recently is dropped.
const sourcesCached = 50_000

type cachedSource struct {
	src *tenants.Source
	at  time.Time
}

func newSourceCache(store *tenants.RedisStore, now func() time.Time) *sourceCache {
	return &sourceCache{store: store, now: now, byID: newLRU[cachedSource](sourcesCached), byTok: newLRU[string](sourcesCached),
		missing: newLRU[time.Time](sourcesCached)}
}

// Source returns a source by id.
func (c *sourceCache) Source(ctx context.Context, id string) (*tenants.Source, error) {
	c.mu.Lock()
	e, ok := c.byID.get(id)
	c.mu.Unlock()
	if ok && c.now().Sub(e.at) < sourceTTL {
		return e.src, nil
	}
	src, err := c.store.Source(ctx, id)
	if err != nil {
		return nil, err
	}
	c.put(&src)
	return &src, nil
}

// tokenState is what a replica knows of a webhook token without Redis.
type tokenState int

const (
	tokenUnseen  tokenState = iota
	tokenKnown              // a source's (its copy may need reading again)
	tokenMissing            // Redis did not know it a moment ago
)

// Token says what this replica knows of a webhook token.
func (c *sourceCache) Token(token string) tokenState {
	if e, ok := c.byToken(token); ok && e.src.Token == token {
		return tokenKnown
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.missing.get(tenants.HashSecret(token))
	if ok && c.now().Sub(at) < missingTTL {
		return tokenMissing
	}
	return tokenUnseen
}

// Missing records that Redis does not know a token.
func (c *sourceCache) Missing(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.missing.put(tenants.HashSecret(token), c.now())
}

// ByToken returns the source of a webhook token.
func (c *sourceCache) ByToken(ctx context.Context, token string) (*tenants.Source, error) {
	e, ok := c.byToken(token)
	if ok && c.now().Sub(e.at) < sourceTTL && e.src.Token == token {
		return e.src, nil
	}
	src, err := c.store.SourceByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	c.put(&src)
	return &src, nil
}

// byToken returns the cached source of a token, fresh or not.
func (c *sourceCache) byToken(token string) (cachedSource, bool) {
	h := tenants.HashSecret(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.byTok.get(h)
	if !ok {
		return cachedSource{}, false
	}
	return c.byID.get(id)
}

func (c *sourceCache) put(src *tenants.Source) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byID.put(src.ID, cachedSource{src: src, at: c.now()})
	c.byTok.put(tenants.HashSecret(src.Token), src.ID)
}

// Save stores changes to a source (tenants.RedisStore.SaveSource) and drops
// the cached copy here at once; other replicas drop theirs when the change
// is announced.
func (c *sourceCache) Save(ctx context.Context, src tenants.Source) (tenants.Source, error) {
	saved, err := c.store.SaveSource(ctx, src)
	c.Forget(src.ID)
	return saved, err
}

// Rotate gives a source a new webhook token (tenants.RedisStore.RotateSourceToken).
func (c *sourceCache) Rotate(ctx context.Context, src tenants.Source) (tenants.Source, error) {
	saved, err := c.store.RotateSourceToken(ctx, src)
	c.Forget(src.ID)
	return saved, err
}

// DropPortal removes a source's references to a deleted portal
// (tenants.RedisStore.DropPortal).
func (c *sourceCache) DropPortal(ctx context.Context, src tenants.Source, hub int64) (tenants.Source, error) {
	saved, err := c.store.DropPortal(ctx, src, hub)
	c.Forget(src.ID)
	return saved, err
}

// Delete removes a source (tenants.RedisStore.DeleteSource).
func (c *sourceCache) Delete(ctx context.Context, src tenants.Source) error {
	err := c.store.DeleteSource(ctx, src)
	c.Forget(src.ID)
	return err
}

// Forget drops a source from the cache.
func (c *sourceCache) Forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID.get(id); ok {
		c.byTok.remove(tenants.HashSecret(e.src.Token))
	}
	c.byID.remove(id)
}

// follow drops sources announced as changed until ctx ends.
func (c *sourceCache) follow(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) {
	for ctx.Err() == nil {
		sub := rdb.Subscribe(ctx, tenants.SourcesChannel)
		ch := sub.Channel()
		for open := true; open; {
			select {
			case <-ctx.Done():
				_ = sub.Close()
				return
			case m, ok := <-ch:
				if !ok {
					open = false
					break
				}
				c.Forget(m.Payload)
			}
		}
		_ = sub.Close()
		log.Warn("source change subscription ended; resubscribing")
		time.Sleep(time.Second)
	}
}

// propertyTTL is how long a portal's property definitions are cached.
const propertyTTL = 10 * time.Minute

// propertyCache holds each portal's contact property definitions, in memory
// and in Redis (shared by replicas), so the mapping editor and delivery do
// not list them on every use. Listing costs a call under the portal's
// rate limit.
type propertyCache struct {
	rdb     redis.UniversalClient
	hs      *hubspot.Client
	tokens  *oauth.Tokens
	limiter *queue.Limiter
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

func newPropertyCache(rdb redis.UniversalClient, hs *hubspot.Client, tokens *oauth.Tokens, lim *queue.Limiter, now func() time.Time) *propertyCache {
	return &propertyCache{rdb: rdb, hs: hs, tokens: tokens, limiter: lim, now: now,
		mem: map[int64]cachedProps{}, failed: map[int64]failure{}}
}

func propsKey(hub int64) string { return tenants.PortalKey(hub, "props") }

// Properties returns a portal's property definitions by name.
func (c *propertyCache) Properties(ctx context.Context, hub int64) (map[string]hubspot.Property, error) {
	p, err := c.load(ctx, hub, false)
	return p.defs, err
}

// List returns a portal's properties in HubSpot's order; refresh bypasses
// the cache (the mapping editor's refresh button).
func (c *propertyCache) List(ctx context.Context, hub int64, refresh bool) ([]hubspot.Property, error) {
	p, err := c.load(ctx, hub, refresh)
	return p.list, err
}

// Drop forgets a portal's cached properties (after refhub created some).
func (c *propertyCache) Drop(ctx context.Context, hub int64) {
	c.mu.Lock()
	delete(c.mem, hub)
	c.mu.Unlock()
	c.rdb.Del(ctx, propsKey(hub))
}

func (c *propertyCache) load(ctx context.Context, hub int64, refresh bool) (cachedProps, error) {
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

func (c *propertyCache) keep(hub int64, list []hubspot.Property) cachedProps {
	p := cachedProps{defs: make(map[string]hubspot.Property, len(list)), list: list, at: c.now()}
	for _, d := range list {
		p.defs[d.Name] = d
	}
	c.mu.Lock()
	c.mem[hub] = p
	c.mu.Unlock()
	return p
}
