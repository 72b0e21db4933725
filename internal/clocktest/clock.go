// Package clocktest is a settable clock for tests: code under test takes a
// `now func() time.Time` (or a clock with Now and Sleep) and tests move time
// forward instead of sleeping.
package clocktest

import (
	"context"
	"sync"
	"time"
)

// Clock is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock stopped at start.
func New(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Sleep is simulated waiting: it moves the clock forward by d at once, so
// code that waits on the clock (a rate limiter) costs no real time. It is
// meant for a test that steps the code under test from one goroutine;
// concurrent sleepers would each move the clock.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > 0 {
		c.Advance(d)
	}
	return nil
}
