package ingest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
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

// Webhooks with a token this replica does not know cost a lookup in Redis;
// each client address may send strangerRate of them per second (with
// bursts of strangerBurst) before it is refused without one.
const (
	strangerRate  = 5
	strangerBurst = 20
	// limiterKeys bounds the keys each request limiter holds (sources,
	// client addresses): beyond, the one idle longest is dropped.
	limiterKeys = 100_000
)

// Deps are what the webhook works with.
type Deps struct {
	Sources *tenants.SourceCache
	Queue   *queue.Queue
	Intake  *Intake
	Quota   *Quota
	Metrics *Metrics
	Log     *slog.Logger
	Now     func() time.Time
	// RatePerSource limits requests per second per source
	// (REFHUB_WEBHOOK_RATE_LIMIT); 0: no limit.
	RatePerSource int
}

// Webhook receives Referral Factory's signups.
type Webhook struct {
	Deps
	perSource *keyedLimiter // nil: no limit
	strangers *keyedLimiter // unknown webhook tokens per client address
	quotaLog  *keyedLimiter // activity records of quota refusals per source
}

// NewWebhook returns the webhook handler.
func NewWebhook(d Deps) *Webhook {
	w := &Webhook{Deps: d, strangers: newKeyedLimiter(strangerRate, strangerBurst, limiterKeys, d.Now),
		quotaLog: newKeyedLimiter(1, 1, limiterKeys, d.Now)}
	if d.RatePerSource > 0 {
		w.perSource = newKeyedLimiter(float64(d.RatePerSource), d.RatePerSource, limiterKeys, d.Now)
	}
	return w
}

// Receive answers a Referral Factory webhook: authenticate the source,
// check what it may still cost, normalize the payload, map it (to refuse
// what has no email), and durably enqueue it before answering 202.
func (w *Webhook) Receive(c *gin.Context) error {
	src, err := w.source(c)
	if err != nil {
		return err
	}
	if w.perSource != nil && !w.perSource.Allow(src.ID) {
		w.Metrics.count("rate_limited")
		c.Header("Retry-After", "1")
		return apperr.New(apperr.TooMany, "too many requests for this source; retry in a second")
	}
	if src.Secret != "" {
		name := src.SecretHeader()
		if subtle.ConstantTimeCompare([]byte(c.GetHeader(name)), []byte(src.Secret)) != 1 {
			return apperr.New(apperr.Unauthorized, "missing or wrong "+name+" header: add it to the webhook in Referral Factory with the value shown in refhub")
		}
	}
	if e := w.Quota.Check(c.Request.Context(), src); e != nil {
		return w.refuseOverQuota(c, src, e)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxWebhookBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "the body is larger than 1 MiB")
		}
		return &apperr.Error{Code: apperr.Invalid, Message: "could not read the request body", Err: err}
	}
	return w.accept(c, src, body)
}

// source finds the source of a webhook's token. A token this replica
// has not met costs a lookup in Redis, so such lookups are limited per
// client address: an address that sent too many tokens Redis did not know
// is refused before any Redis work. A token just found missing, or that
// cannot be one, is answered from memory and not looked up.
func (w *Webhook) source(c *gin.Context) (*tenants.Source, error) {
	token := c.Param("token")
	state := w.Sources.Token(token)
	if state == tenants.TokenUnseen && !w.strangers.Has(clientKey(c.ClientIP())) {
		w.Metrics.count("unknown_limited")
		c.Header("Retry-After", "10")
		return nil, apperr.New(apperr.TooMany, "too many requests with unknown webhook URLs from this address: copy the URL of the source from refhub again, and retry in a few seconds")
	}
	var src *tenants.Source
	err := error(tenants.ErrNotFound)
	if state == tenants.TokenKnown || state == tenants.TokenUnseen && tenants.LooksLikeSecret(token) {
		src, err = w.Sources.ByToken(c.Request.Context(), token)
	}
	if errors.Is(err, tenants.ErrNotFound) {
		if state != tenants.TokenMissing {
			w.strangers.Allow(clientKey(c.ClientIP())) // spends one of the address's lookups
			w.Sources.Missing(token)
		}
		err = apperr.New(apperr.NotFound, "unknown webhook URL: copy the URL of the source from refhub again")
	}
	return src, err
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
func (w *Webhook) refuseOverQuota(c *gin.Context, src *tenants.Source, e *OverQuota) error {
	w.Metrics.count("over_quota")
	if w.quotaLog.Allow(src.ID) {
		now := w.Now().UTC()
		ev := &queue.Event{ID: queue.NewEventID(now), SourceID: src.ID, HubID: src.HubID, Status: queue.Rejected,
			ReceivedAt: now, UpdatedAt: now, Reason: "Refused with 429: " + e.Error() + ".",
			Code: http.StatusText(http.StatusTooManyRequests)}
		if err := w.Queue.RecordRejected(c.Request.Context(), ev); err != nil {
			w.Log.Warn("record a refusal over quota", "source", src.ID, "err", err)
		}
	}
	c.Header("Retry-After", quotaRetryAfter)
	return apperr.New(apperr.TooMany, e.Error())
}

// accept normalizes, maps and enqueues one signup for src.
func (w *Webhook) accept(c *gin.Context, src *tenants.Source, body []byte) error {
	now := w.Now().UTC()
	pl, err := payload.Parse(c.ContentType(), body, c.Request.URL.Query())
	if err != nil {
		var pe *payload.Error
		if errors.As(err, &pe) {
			return w.reject(c, src, src.HubID, now, nil, apperr.As(pe))
		}
		return err
	}
	ev, err := Build(src, pl, now)
	if err != nil { // checked first: the typed error's target would cost every signup an allocation
		var ne *tenants.NoEmailError
		if errors.As(err, &ne) {
			return w.reject(c, src, ev.HubID, now, pl.Fields, apperr.New(apperr.Unprocessable, ne.Problem))
		}
		return err
	}
	id, dup, err := w.Intake.Submit(c.Request.Context(), ev, dedupeHash(c.ContentType(), body, c.Request.URL.RawQuery))
	if err != nil {
		return &apperr.Error{Code: apperr.Unavailable, Message: "refhub could not store the signup right now; send it again", Err: err}
	}
	if dup {
		w.Metrics.count("duplicate")
		c.JSON(http.StatusOK, gin.H{"id": id, "status": "duplicate",
			"message": "the same signup was received in the last 24 hours; it is delivered once"})
		return nil
	}
	w.Metrics.count("accepted")
	// What c.JSON renders for {"id": id, "status": "queued"}, without
	// reflection: event ids are [0-9a-z_] and need no escaping.
	c.Data(http.StatusAccepted, "application/json; charset=utf-8", []byte(`{"id":"`+id+`","status":"queued"}`))
	return nil
}

// MaxReason bounds a refusal's message, as answered and as stored: the
// messages quote at most short parts of a request, and this is the cap
// whatever a message says.
const MaxReason = 1024

// reject answers a signup that cannot be accepted and records it in the
// source's activity, so the admin sees what arrived and why it was refused.
func (w *Webhook) reject(c *gin.Context, src *tenants.Source, hub int64, now time.Time, fields []payload.Field, refusal *apperr.Error) error {
	w.Metrics.count("rejected")
	msg := clipReason(refusal.Message)
	ev := &queue.Event{ID: queue.NewEventID(now), SourceID: src.ID, HubID: hub, Status: queue.Rejected,
		ReceivedAt: now, UpdatedAt: now, Payload: fields, Reason: msg, Code: http.StatusText(apperr.Status(refusal.Code))}
	if err := w.Queue.RecordRejected(c.Request.Context(), ev); err != nil {
		w.Log.Warn("record rejected signup", "source", src.ID, "err", err)
	}
	return apperr.New(refusal.Code, msg)
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
