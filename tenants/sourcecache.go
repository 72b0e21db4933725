package tenants

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/internal/lru"
)

// sourceTTL bounds how stale a cached source may be if an invalidation
// message is lost.
const sourceTTL = 30 * time.Second

// missingTTL is how long a token Redis did not know is answered from
// memory: a deleted source's webhook, still called, costs one lookup a
// minute.
const missingTTL = time.Minute

// sourcesCached bounds the sources a replica keeps in memory; beyond, the
// one used least recently is dropped.
const sourcesCached = 50_000

// SourceCache keeps recently used sources in memory for the webhook and the
// delivery engine, and is the write path of sources: every change goes
// through it and drops the cached copy here at once. Changes are announced
// on SourcesChannel, and Follow drops the copy in every other replica.
type SourceCache struct {
	store   *RedisStore
	now     func() time.Time
	mu      sync.Mutex
	byID    *lru.Map[cachedSource]
	byTok   *lru.Map[string]    // token hash -> id
	missing *lru.Map[time.Time] // hashes of tokens Redis did not know, and when
}

type cachedSource struct {
	src *Source
	at  time.Time
}

// NewSourceCache returns an empty cache in front of store.
func NewSourceCache(store *RedisStore, now func() time.Time) *SourceCache {
	return &SourceCache{store: store, now: now, byID: lru.New[cachedSource](sourcesCached),
		byTok: lru.New[string](sourcesCached), missing: lru.New[time.Time](sourcesCached)}
}

// Source returns a source by id.
func (c *SourceCache) Source(ctx context.Context, id string) (*Source, error) {
	c.mu.Lock()
	e, ok := c.byID.Get(id)
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

// TokenState is what a replica knows of a webhook token without Redis.
type TokenState int

// What a replica may know of a token.
const (
	TokenUnseen  TokenState = iota
	TokenKnown              // a source's (its copy may need reading again)
	TokenMissing            // Redis did not know it a moment ago
)

// Token says what this replica knows of a webhook token.
func (c *SourceCache) Token(token string) TokenState {
	if e, ok := c.byToken(token); ok && e.src.Token == token {
		return TokenKnown
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.missing.Get(HashSecret(token))
	if ok && c.now().Sub(at) < missingTTL {
		return TokenMissing
	}
	return TokenUnseen
}

// Missing records that Redis does not know a token.
func (c *SourceCache) Missing(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.missing.Put(HashSecret(token), c.now())
}

// ByToken returns the source of a webhook token.
func (c *SourceCache) ByToken(ctx context.Context, token string) (*Source, error) {
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
func (c *SourceCache) byToken(token string) (cachedSource, bool) {
	h := HashSecret(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.byTok.Get(h)
	if !ok {
		return cachedSource{}, false
	}
	return c.byID.Get(id)
}

func (c *SourceCache) put(src *Source) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byID.Put(src.ID, cachedSource{src: src, at: c.now()})
	c.byTok.Put(HashSecret(src.Token), src.ID)
}

// Save stores changes to a source (RedisStore.SaveSource) and drops the
// cached copy here at once; other replicas drop theirs when the change is
// announced.
func (c *SourceCache) Save(ctx context.Context, src Source) (Source, error) {
	saved, err := c.store.SaveSource(ctx, src)
	c.Forget(src.ID)
	return saved, err
}

// Rotate gives a source a new webhook token (RedisStore.RotateSourceToken).
func (c *SourceCache) Rotate(ctx context.Context, src Source) (Source, error) {
	saved, err := c.store.RotateSourceToken(ctx, src)
	c.Forget(src.ID)
	return saved, err
}

// DropPortal removes a source's references to a deleted portal
// (RedisStore.DropPortal).
func (c *SourceCache) DropPortal(ctx context.Context, src Source, hub int64) (Source, error) {
	saved, err := c.store.DropPortal(ctx, src, hub)
	c.Forget(src.ID)
	return saved, err
}

// Delete removes a source (RedisStore.DeleteSource).
func (c *SourceCache) Delete(ctx context.Context, src Source) error {
	err := c.store.DeleteSource(ctx, src)
	c.Forget(src.ID)
	return err
}

// Forget drops a source from the cache.
func (c *SourceCache) Forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID.Get(id); ok {
		c.byTok.Remove(HashSecret(e.src.Token))
	}
	c.byID.Remove(id)
}

// Follow drops sources announced as changed on SourcesChannel until ctx
// ends, subscribing again when a subscription ends.
func (c *SourceCache) Follow(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) {
	for ctx.Err() == nil {
		sub := rdb.Subscribe(ctx, SourcesChannel)
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
