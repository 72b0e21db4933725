package app

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
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
// check what it may still cost, normalize the payload, map it (to refuse
// what has no email), and durably enqueue it before answering 202.
func (a *App) hook(c *gin.Context) {
	src, ok := a.hookSource(c)
	if !ok {
		return
	}
	if a.perSource != nil && !a.perSource.Allow(src.ID) {
		a.metrics.ingested.WithLabelValues("rate_limited").Inc()
		c.Header("Retry-After", "1")
		_ = c.Error(apperr.New(apperr.TooMany, "too many requests for this source; retry in a second"))
		return
	}
	if src.Secret != "" {
		name := src.SecretName
		if name == "" {
			name = DefaultSecretHeader
		}
		got := c.GetHeader(name)
		if subtle.ConstantTimeCompare([]byte(got), []byte(src.Secret)) != 1 {
			_ = c.Error(apperr.New(apperr.Unauthorized, "missing or wrong "+name+" header: add it to the webhook in Referral Factory with the value shown in refhub"))
			return
		}
	}
	if e := a.quota.check(c.Request.Context(), src); e != nil {
		a.refuseOverQuota(c, src, e)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxWebhookBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			_ = c.Error(apperr.New(apperr.TooLarge, "the body is larger than 1 MiB"))
			return
		}
		_ = c.Error(&apperr.Error{Code: apperr.Invalid, Message: "could not read the request body", Err: err})
		return
	}
	a.accept(c, src, body)
}

// hookSource finds the source of a webhook's token. A token this replica
// has not met costs a lookup in Redis, so such lookups are limited per
// client address: an address that sent too many tokens Redis did not know
// is refused before any Redis work. A token just found missing, or that
// cannot be one, is answered from memory and not looked up.
func (a *App) hookSource(c *gin.Context) (*tenants.Source, bool) {
	token := c.Param("token")
	state := a.sources.Token(token)
	if state == tenants.TokenUnseen && !a.strangers.Has(clientKey(c.ClientIP())) {
		a.metrics.ingested.WithLabelValues("unknown_limited").Inc()
		c.Header("Retry-After", "10")
		_ = c.Error(apperr.New(apperr.TooMany, "too many requests with unknown webhook URLs from this address: copy the URL of the source from refhub again, and retry in a few seconds"))
		return nil, false
	}
	var src *tenants.Source
	err := error(tenants.ErrNotFound)
	if state == tenants.TokenKnown || state == tenants.TokenUnseen && tenants.LooksLikeSecret(token) {
		src, err = a.sources.ByToken(c.Request.Context(), token)
	}
	if errors.Is(err, tenants.ErrNotFound) {
		if state != tenants.TokenMissing {
			a.strangers.Allow(clientKey(c.ClientIP())) // spends one of the address's lookups
			a.sources.Missing(token)
		}
		err = apperr.New(apperr.NotFound, "unknown webhook URL: copy the URL of the source from refhub again")
	}
	if err != nil {
		_ = c.Error(err)
		return nil, false
	}
	return src, true
}

// clientKey is what unknown-token lookups are counted by: the client's
// IPv4 address, or the /64 network of an IPv6 one (a single host usually
// has a whole /64 to pick addresses from).
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	p, _ := addr.Prefix(64)
	return p.String()
}

// quotaRetryAfter is what a sender over a backlog quota is told to wait
// (seconds): a backlog shrinks as it is delivered or fixed, not at once.
const quotaRetryAfter = "60"

// refuseOverQuota answers 429 to a signup for a source or workspace at
// its backlog quota, and says so in the source's activity (at most once a
// second per source and replica: a flood of refusals is one line, not a
// flood of records). The body is not read: a refusal costs no storage.
func (a *App) refuseOverQuota(c *gin.Context, src *tenants.Source, e *overQuota) {
	a.metrics.ingested.WithLabelValues("over_quota").Inc()
	if a.quotaLog.Allow(src.ID) {
		now := a.now().UTC()
		ev := &queue.Event{ID: queue.NewEventID(now), SourceID: src.ID, HubID: src.HubID, Status: queue.Rejected,
			ReceivedAt: now, UpdatedAt: now, Reason: "Refused with 429: " + e.Error() + ".",
			Code: http.StatusText(http.StatusTooManyRequests)}
		if err := a.queue.RecordRejected(c.Request.Context(), ev); err != nil {
			a.log.Warn("record a refusal over quota", "source", src.ID, "err", err)
		}
	}
	c.Header("Retry-After", quotaRetryAfter)
	_ = c.Error(apperr.New(apperr.TooMany, e.Error()))
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
			a.reject(c, src, src.HubID, now, nil, apperr.As(pe))
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
		a.reject(c, src, hub, now, pl.Fields, apperr.New(apperr.Unprocessable, strings.TrimPrefix(err.Error(), "no email: ")))
		return
	}
	ev := &queue.Event{ID: queue.NewEventID(now), SourceID: src.ID, HubID: hub, Route: route, Email: props["email"],
		Status: queue.Queued, ReceivedAt: now, UpdatedAt: now, Payload: pl.Fields}
	id, dup, err := a.queue.Enqueue(ctx, ev, dedupeHash(c.ContentType(), body, c.Request.URL.RawQuery))
	if err != nil {
		_ = c.Error(&apperr.Error{Code: apperr.Unavailable, Message: "refhub could not store the signup right now; send it again", Err: err})
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
func (a *App) reject(c *gin.Context, src *tenants.Source, hub int64, now time.Time, fields []payload.Field, refusal *apperr.Error) {
	a.metrics.ingested.WithLabelValues("rejected").Inc()
	msg := clipReason(refusal.Message)
	ev := &queue.Event{ID: queue.NewEventID(now), SourceID: src.ID, HubID: hub, Status: queue.Rejected,
		ReceivedAt: now, UpdatedAt: now, Payload: fields, Reason: msg, Code: http.StatusText(apperr.Status(refusal.Code))}
	if err := a.queue.RecordRejected(c.Request.Context(), ev); err != nil {
		a.log.Warn("record rejected signup", "source", src.ID, "err", err)
	}
	_ = c.Error(apperr.New(refusal.Code, msg))
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
