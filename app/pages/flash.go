package pages

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
)

// flashTTL is how long a flash message waits for the page it was meant for.
const flashTTL = 5 * time.Minute

// flash is a one-time message shown on the page a form redirects to
// (POST/redirect/GET). It lives in Redis under the session (the pages own
// the keys flash:<session id>), so it never travels in a URL or cookie and
// works across replicas.
type flash struct {
	Message string `json:"m"`
	Error   bool   `json:"e,omitempty"`
}

func flashKey(sid string) string { return "flash:" + sid }

// takeFlash returns and removes the session's pending message.
func (h *Pages) takeFlash(ctx context.Context, sid string) (flash, bool) {
	var get *redis.StringCmd
	_, err := h.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, flashKey(sid))
		p.Del(ctx, flashKey(sid))
		return nil
	})
	if err != nil {
		return flash{}, false
	}
	var f flash
	if json.Unmarshal([]byte(get.Val()), &f) != nil || f.Message == "" {
		return flash{}, false
	}
	return f, true
}

// redirectFlash stores msg for the session's next page and redirects there
// with 303, so reloading the result page never resubmits the form.
func (h *Pages) redirectFlash(c *gin.Context, to, msg string, isError bool) error {
	if sid := auth.PrincipalOf(c).SessionID; sid != "" && msg != "" {
		raw, _ := json.Marshal(flash{Message: msg, Error: isError})
		if err := h.Redis.Set(c.Request.Context(), flashKey(sid), raw, flashTTL).Err(); err != nil {
			h.Log.Warn("store flash message", "err", err)
		}
	}
	c.Redirect(http.StatusSeeOther, to)
	return nil
}

// redirectError shows a refusal (bad input, a conflict, HubSpot's answer)
// on the page at to; a missing resource, which has no page to go back to,
// and anything unexpected are returned for the error page instead, where
// the latter is logged.
func (h *Pages) redirectError(c *gin.Context, to string, err error) error {
	e := apperr.As(err)
	switch {
	case e.Code == apperr.Upstream:
		h.Log.Warn("HubSpot refused a settings action", "route", c.FullPath(), "err", e)
	case e.Code == apperr.NotFound || apperr.Status(e.Code) >= 500:
		return err
	}
	return h.redirectFlash(c, to, e.Message, true)
}
