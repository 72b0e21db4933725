package ingest

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/refhub/refhub/internal/lru"
)

// keyedLimiter holds a token bucket per key (a source, a client address),
// at most max of them (see internal/lru): a flood of new keys drops the
// buckets idle longest, one at a time, and never resets the limits of the
// keys in use. A dropped bucket had been idle longest; refilled or nearly
// so, it is what a new bucket would be.
type keyedLimiter struct {
	limit   rate.Limit
	burst   int
	now     func() time.Time
	mu      sync.Mutex
	buckets *lru.Map[*rate.Limiter]
}

func newKeyedLimiter(perSecond float64, burst, max int, now func() time.Time) *keyedLimiter {
	return &keyedLimiter{limit: rate.Limit(perSecond), burst: burst, now: now, buckets: lru.New[*rate.Limiter](max)}
}

// bucket returns key's bucket, marking it used; callers hold mu.
func (k *keyedLimiter) bucket(key string) *rate.Limiter {
	b, ok := k.buckets.Get(key)
	if !ok {
		b = rate.NewLimiter(k.limit, k.burst)
		k.buckets.Put(key, b)
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
	return k.buckets.Len()
}
