package app

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// lru maps keys to values, at most max of them: when a new key arrives at
// a full map, the entry used least recently is dropped — one entry, never
// all of them. Not safe for concurrent use.
type lru[V any] struct {
	max   int
	byKey map[string]*list.Element
	order list.List // of *lruEntry[V]; front: used last
}

type lruEntry[V any] struct {
	key string
	val V
}

func newLRU[V any](max int) *lru[V] { return &lru[V]{max: max, byKey: make(map[string]*list.Element)} }

// get returns key's value and marks it used.
func (l *lru[V]) get(key string) (V, bool) {
	e, ok := l.byKey[key]
	if !ok {
		var zero V
		return zero, false
	}
	l.order.MoveToFront(e)
	return e.Value.(*lruEntry[V]).val, true
}

// put sets key's value and marks it used, dropping the least recently used
// entry if the map is full.
func (l *lru[V]) put(key string, v V) {
	if e, ok := l.byKey[key]; ok {
		e.Value.(*lruEntry[V]).val = v
		l.order.MoveToFront(e)
		return
	}
	if l.order.Len() >= l.max {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.byKey, oldest.Value.(*lruEntry[V]).key)
	}
	l.byKey[key] = l.order.PushFront(&lruEntry[V]{key: key, val: v})
}

// remove drops key.
func (l *lru[V]) remove(key string) {
	if e, ok := l.byKey[key]; ok {
		l.order.Remove(e)
		delete(l.byKey, key)
	}
}

func (l *lru[V]) len() int { return l.order.Len() }

// keyedLimiter holds a token bucket per key (a source, a client address),
// at most max of them (see lru): a flood of new keys drops the buckets
// idle longest, one at a time, and never resets the limits of the keys in
// use. A dropped bucket had been idle longest; refilled or nearly so, it
// is what a new bucket would be.
type keyedLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time
	mu    sync.Mutex
	lru   *lru[*rate.Limiter]
}

func newKeyedLimiter(perSecond float64, burst, max int, now func() time.Time) *keyedLimiter {
	return &keyedLimiter{limit: rate.Limit(perSecond), burst: burst, now: now, lru: newLRU[*rate.Limiter](max)}
}

// bucket returns key's bucket, marking it used; callers hold mu.
func (k *keyedLimiter) bucket(key string) *rate.Limiter {
	b, ok := k.lru.get(key)
	if !ok {
		b = rate.NewLimiter(k.limit, k.burst)
		k.lru.put(key, b)
	}
	return b
}

// Allow takes a token from key's bucket and reports whether there was one.
func (k *keyedLimiter) Allow(key string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.bucket(key).AllowN(k.now(), 1)
}

// Has reports whether key's bucket holds a token, without taking it.
func (k *keyedLimiter) Has(key string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.bucket(key).TokensAt(k.now()) >= 1
}

// Len is how many buckets are held.
func (k *keyedLimiter) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lru.len()
}
