package web

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/queue"
)

// maxPage bounds ?page=: far beyond any workspace's last page.
const maxPage = 1_000_000

// Paging reads ?page= and ?per_page= (default 1 and 50, at most maxPage
// and 200).
func Paging(c *gin.Context) (int, int, error) {
	page, err := IntParam(c, "page", 1, 1, maxPage)
	if err != nil {
		return 0, 0, err
	}
	perPage, err := IntParam(c, "per_page", 50, 1, 200)
	return page, perPage, err
}

// IntParam reads a whole-number query parameter within [lo, hi], def when
// absent or empty; anything else is a 400 that says what is expected.
func IntParam(c *gin.Context, name string, def, lo, hi int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, apperr.New(apperr.Invalid, fmt.Sprintf("%s must be a whole number from %d to %d", name, lo, hi))
	}
	return n, nil
}

// ActivityFilter reads ?status=, ?email=, ?limit= (1 to 500) and ?before=
// (an RFC 3339 time) of a source's activity.
func ActivityFilter(c *gin.Context) (queue.Filter, error) {
	f := queue.Filter{Status: queue.Status(c.Query("status")), Email: c.Query("email")}
	switch f.Status {
	case "", queue.Queued, queue.Delivered, queue.NotSent, queue.Failed, queue.Rejected:
	default:
		return f, apperr.New(apperr.Invalid, "status must be queued, delivered, not_sent, failed or rejected")
	}
	var err error
	if f.Limit, err = IntParam(c, "limit", 0, 1, 500); err != nil {
		return f, err
	}
	if v := c.Query("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return f, apperr.New(apperr.Invalid, "before must be an RFC 3339 time")
		}
		f.Before = t
	}
	return f, nil
}

// DeadPage reads ?after= (a cursor) and ?limit= of a source's dead letters.
func DeadPage(c *gin.Context) (queue.DeadPage, error) {
	limit, err := IntParam(c, "limit", queue.DefaultDeadPage, 1, queue.MaxDeadPage)
	return queue.DeadPage{After: c.Query("after"), Limit: limit}, err
}

// PageOf returns page (from 1) of items, perPage at a time: empty past the
// last page, whatever the page number (no product that could overflow).
func PageOf[T any](items []T, page, perPage int) []T {
	if page < 1 || perPage < 1 || page-1 > len(items)/perPage {
		return nil
	}
	start := (page - 1) * perPage
	return items[start:min(start+perPage, len(items))]
}

// MemberID reads the :memberId of a members route (a HubSpot user id); one
// that is not a positive number names no member.
func MemberID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("memberId"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "no such member")
	}
	return id, nil
}
