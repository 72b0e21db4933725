package ingest

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
