package app

import (
	"context"
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// deadPage is one page of a source's dead letters.
type deadPage struct {
	Events []eventView
	Next   string // cursor of the next page ("" on the last)
	Total  int64  // dead letters of the source in all
}

// deadLetterPage reads the page of dead letters ?after= and ?limit= ask
// for: never all of them at once.
func (a *App) deadLetterPage(c *gin.Context, src tenants.Source) (deadPage, error) {
	ctx := c.Request.Context()
	limit, err := intParam(c, "limit", queue.DefaultDeadPage, 1, queue.MaxDeadPage)
	if err != nil {
		return deadPage{}, err
	}
	evs, next, err := a.queue.DeadLetters(ctx, src.AllPortals(), src.ID, queue.DeadPage{After: c.Query("after"), Limit: limit})
	if errors.Is(err, queue.ErrBadCursor) {
		return deadPage{}, apperr.New(apperr.Invalid, "after must be the next cursor a previous page gave")
	}
	if err != nil {
		return deadPage{}, err
	}
	total, err := a.deadCount(ctx, src)
	return deadPage{Events: a.viewEvents(evs), Next: next, Total: total}, err
}

// deadCount is how many dead letters a source has.
func (a *App) deadCount(ctx context.Context, src tenants.Source) (int64, error) {
	var total int64
	for _, hub := range src.AllPortals() {
		n, err := a.queue.DeadCount(ctx, hub, src.ID)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// replay queues a source's dead letters again (those of ids, or the
// oldest queue.MaxReplay) and returns how many, and how many remain.
func (a *App) replay(ctx context.Context, src tenants.Source, ids []string) (int, int64, error) {
	n, err := a.queue.Replay(ctx, src.AllPortals(), src.ID, ids)
	if n > 0 {
		a.engine.Wake()
	}
	if err != nil {
		return n, 0, err
	}
	left, err := a.deadCount(ctx, src)
	return n, left, err
}
