package app

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/refhub/refhub/internal/clocktest"
)

// TestLimiterIsNeverResetWholesale: however many new keys arrive, a key in
// use keeps its bucket (an exhausted source stays limited), the limiter
// holds at most its maximum of buckets, and it drops the ones idle longest.
func TestLimiterIsNeverResetWholesale(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	lim := newKeyedLimiter(10, 10, 1000, clock.Now)
	for lim.Allow("hot") {
	}
	for i := range 250_000 {
		lim.Allow("k" + strconv.Itoa(i))
		if i%500 == 0 {
			assert.False(t, lim.Has("hot"), "after %d other keys the hot key is still limited", i)
		}
	}
	assert.False(t, lim.Allow("hot"))
	assert.Equal(t, 1000, lim.Len(), "never more buckets than the maximum")

	clock.Advance(time.Second)
	assert.True(t, lim.Allow("hot"), "a bucket refills with time")
}

// TestLRUDropsTheLeastRecentlyUsed: a full map drops the entry used least
// recently, one at a time.
func TestLRUDropsTheLeastRecentlyUsed(t *testing.T) {
	l := newLRU[int](3)
	l.put("a", 1)
	l.put("b", 2)
	l.put("c", 3)
	_, _ = l.get("a") // a is used again: b is now the oldest
	l.put("d", 4)
	_, ok := l.get("b")
	assert.False(t, ok, "b was dropped")
	for _, k := range []string{"a", "c", "d"} {
		_, ok := l.get(k)
		assert.True(t, ok, k)
	}
	l.put("a", 10)
	v, _ := l.get("a")
	assert.Equal(t, 10, v)
	l.remove("a")
	_, ok = l.get("a")
	assert.False(t, ok)
	assert.Equal(t, 2, l.len())
}
