package apptest

import (
	"context"
	"time"

	"github.com/refhub/refhub/internal/clocktest"
)

// Drain steps the delivery engine in this process until no lane is due
// (for tests that run without background delivery). A lane put behind the
// others (due a millisecond later) is due for Drain; one backing off or
// waiting for its rate limit is not.
func (e *Env) Drain(ctx context.Context) {
	e.T.Helper()
	idle := 0
	for idle < 3 {
		worked, wait, err := e.App.Engine().RunOnce(ctx)
		if err != nil {
			e.T.Fatal(err)
		}
		switch {
		case worked:
			idle = 0
		case e.Clock != nil && wait > 0 && wait <= time.Millisecond:
			e.Clock.Advance(wait)
		case e.Clock != nil:
			return
		default:
			idle++
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// Step works one delivery round on simulated time, first moving the clock
// to the next due lane if none is due. It reports false, leaving the clock
// alone, when no lane is scheduled.
func (e *Env) Step(ctx context.Context) bool {
	e.T.Helper()
	e.mustSimulate("Step")
	for {
		worked, wait, err := e.App.Engine().RunOnce(ctx)
		if err != nil {
			e.T.Fatal(err)
		}
		if worked {
			return true
		}
		if wait <= 0 {
			return false
		}
		e.Clock.Advance(wait)
	}
}

// DeliverUntil steps delivery on simulated time until cond holds, and
// fails the test if it does not within limit of simulated time or the
// engine runs out of scheduled lanes first.
func (e *Env) DeliverUntil(ctx context.Context, limit time.Duration, what string, cond func() bool) {
	e.T.Helper()
	e.mustSimulate("DeliverUntil")
	deadline := e.Clock.Now().Add(limit)
	for !cond() {
		if e.Clock.Now().After(deadline) {
			e.T.Fatalf("no %s within %s of simulated time", what, limit)
		}
		if !e.Step(ctx) {
			e.T.Fatalf("no %s: no lane is scheduled any more", what)
		}
	}
}

// DeliverFor steps delivery on simulated time until the clock has moved d
// (it stops there even if the next lane is due later).
func (e *Env) DeliverFor(ctx context.Context, d time.Duration) {
	e.T.Helper()
	e.mustSimulate("DeliverFor")
	until := e.Clock.Now().Add(d)
	for {
		worked, wait, err := e.App.Engine().RunOnce(ctx)
		if err != nil {
			e.T.Fatal(err)
		}
		if worked {
			continue
		}
		left := until.Sub(e.Clock.Now())
		if wait <= 0 || wait > left {
			e.Clock.Advance(max(left, 0))
			return
		}
		e.Clock.Advance(wait)
	}
}

func (e *Env) mustSimulate(what string) {
	if e.Clock == nil {
		e.T.Fatalf("apptest: %s needs Options.Clock", what)
	}
}

// NewClock returns a simulated clock stopped at the current time, on a
// whole millisecond: refhub keeps due times and rate windows in
// milliseconds, so a clock between two would let the simulator (which
// counts nanoseconds) see a window as a fraction of a millisecond short.
func NewClock() *clocktest.Clock {
	return clocktest.New(time.Now().Truncate(time.Millisecond))
}
