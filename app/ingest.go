package app

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// MaxWebhookBody is the largest webhook body accepted.
const MaxWebhookBody = 1 << 20

// DefaultSecretHeader is the header a source's shared secret travels in
// unless the admin picks another name.
const DefaultSecretHeader = "X-Refhub-Secret"

// hook receives a Referral Factory webhook: authenticate the source,
// normalize the payload, map it (to refuse what has no email), and durably
// enqueue it before answering 202.
func (a *App) hook(c *gin.Context) {
	ctx := c.Request.Context()
	src, err := a.sources.ByToken(ctx, c.Param("token"))
	if err != nil {
		if errors.Is(err, tenants.ErrNotFound) {
			err = errorf(ENotFound, "unknown webhook URL: copy the URL of the source from refhub again")
		}
		_ = c.Error(err)
		return
	}
	if !a.hooks.Allow(src.ID) {
		c.Header("Retry-After", "1")
		_ = c.Error(errorf(ETooMany, "too many requests for this source; retry in a second"))
		return
	}
	if src.Secret != "" {
		name := src.SecretName
		if name == "" {
			name = DefaultSecretHeader
		}
		got := c.GetHeader(name)
		if subtle.ConstantTimeCompare([]byte(got), []byte(src.Secret)) != 1 {
			_ = c.Error(errorf(EUnauthorized, "missing or wrong "+name+" header: add it to the webhook in Referral Factory with the value shown in refhub"))
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxWebhookBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			_ = c.Error(errorf(ETooLarge, "the body is larger than 1 MiB"))
			return
		}
		_ = c.Error(&Error{Code: EInvalid, Message: "could not read the request body", Err: err})
		return
	}
	a.accept(c, src, body)
}

// accept normalizes, maps and enqueues one signup for src.
func (a *App) accept(c *gin.Context, src *tenants.Source, body []byte) {
	ctx := c.Request.Context()
	now := a.now().UTC()
	query := c.Request.URL.Query()
	pl, err := payload.Parse(c.ContentType(), body, query)
	if err != nil {
		var pe *payload.Error
		if errors.As(err, &pe) {
			a.reject(c, src, src.HubID, now, nil, pe.Status, pe.Msg)
			return
		}
		_ = c.Error(err)
		return
	}
	var campaign string
	if len(src.Routes) > 0 { // the lookup scans the payload when the field is absent
		campaign, _ = pl.Get("campaign_id")
	}
	hub, mapping, route := src.Route(campaign)
	props, err := mapping.Apply(pl)
	if err != nil {
		a.reject(c, src, hub, now, pl.Fields, http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), "no email: "))
		return
	}
	ev := &queue.Event{ID: queue.NewEventID(now), SourceID: src.ID, HubID: hub, Route: route, Email: props["email"],
		Status: queue.Queued, ReceivedAt: now, UpdatedAt: now, Payload: pl.Fields}
	id, dup, err := a.queue.Enqueue(ctx, ev, dedupeHash(c.ContentType(), body, c.Request.URL.RawQuery))
	if err != nil {
		_ = c.Error(&Error{Code: EUnavailable, Message: "refhub could not store the signup right now; send it again", Err: err})
		return
	}
	if dup {
		a.metrics.ingested.WithLabelValues("duplicate").Inc()
		c.JSON(http.StatusOK, gin.H{"id": id, "status": "duplicate",
			"message": "the same signup was received in the last 24 hours; it is delivered once"})
		return
	}
	a.metrics.ingested.WithLabelValues("accepted").Inc()
	a.engine.Wake()
	// What c.JSON renders for {"id": id, "status": "queued"}, without
	// reflection: event ids are [0-9a-z_] and need no escaping.
	c.Data(http.StatusAccepted, "application/json; charset=utf-8", []byte(`{"id":"`+id+`","status":"queued"}`))
}

// MaxReason bounds a refusal's message, as answered and as stored: the
// messages quote at most short parts of a request, and this is the cap
// whatever a message says.
const MaxReason = 1024

// reject answers a signup that cannot be accepted and records it in the
// source's activity, so the admin sees what arrived and why it was refused.
func (a *App) reject(c *gin.Context, src *tenants.Source, hub int64, now time.Time, fields []payload.Field, status int, msg string) {
	a.metrics.ingested.WithLabelValues("rejected").Inc()
	msg = clipReason(msg)
	ev := &queue.Event{ID: queue.NewEventID(now), SourceID: src.ID, HubID: hub, Status: queue.Rejected,
		ReceivedAt: now, UpdatedAt: now, Payload: fields, Reason: msg, Code: http.StatusText(status)}
	if err := a.queue.RecordRejected(c.Request.Context(), ev); err != nil {
		a.log.Warn("record rejected signup", "source", src.ID, "err", err)
	}
	code := map[int]Code{400: EInvalid, 413: ETooLarge, 415: EUnsupported, 422: EUnprocessable}[status]
	if code == "" {
		code = EInvalid
	}
	_ = c.Error(errorf(code, msg))
}

// clipReason cuts msg to MaxReason bytes at a character boundary.
func clipReason(msg string) string {
	if len(msg) <= MaxReason {
		return msg
	}
	cut := MaxReason - len("…")
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

// dedupeHash identifies a webhook request's content: the same body (or, for
// a GET, the same query) is the same signup.
func dedupeHash(contentType string, body []byte, rawQuery string) string {
	h := sha256.New()
	if len(body) == 0 {
		h.Write([]byte("query\n" + rawQuery))
	} else {
		h.Write([]byte(strings.ToLower(contentType) + "\n"))
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
