// Package hshooks is HubSpot's way in: POST /hooks/hubspot receives the
// app's webhook batches (contact and deal property changes, privacy
// deletions). A batch is checked against HubSpot's v3 signature, stored in
// a Redis stream and answered at once, well inside HubSpot's five seconds;
// any replica then hands each event to the rooms that act on it
// (Handler), exactly once per eventId across HubSpot's retries, duplicate
// copies, replicas and restarts.
package hshooks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// MaxBody bounds a webhook request: HubSpot sends at most 100 events of a
// few hundred bytes each.
const MaxBody = 256 << 10

// maxEvents bounds the events of one batch (HubSpot's is 100).
const maxEvents = 200

// Path is where HubSpot posts, under REFHUB_PUBLIC_URL: the URI it signs.
const Path = "/hooks/hubspot"

// Event is one event of a batch, with HubSpot's field names.
type Event struct {
	EventID          int64   `json:"eventId"`
	SubscriptionID   int64   `json:"subscriptionId"`
	PortalID         int64   `json:"portalId"`
	AppID            int64   `json:"appId"`
	OccurredAt       int64   `json:"occurredAt"`
	SubscriptionType string  `json:"subscriptionType"`
	AttemptNumber    int     `json:"attemptNumber"`
	ObjectID         int64   `json:"objectId"`
	ObjectTypeID     string  `json:"objectTypeId,omitempty"`
	ChangeFlag       string  `json:"changeFlag,omitempty"`
	ChangeSource     string  `json:"changeSource,omitempty"`
	PropertyName     string  `json:"propertyName,omitempty"`
	PropertyValue    *string `json:"propertyValue,omitempty"`
}

// Object is the CRM object an event is about: "contact", "deal", or the
// objectTypeId of generic subscriptions for other objects.
func (e Event) Object() string {
	if t, _, ok := strings.Cut(e.SubscriptionType, "."); ok && t != "object" {
		return t
	}
	switch e.ObjectTypeID {
	case "0-1":
		return "contact"
	case "0-3":
		return "deal"
	}
	return e.ObjectTypeID
}

// Action is what happened: "propertyChange", "privacyDeletion", ...
func (e Event) Action() string {
	_, a, _ := strings.Cut(e.SubscriptionType, ".")
	return a
}

// Value is the new value of a property change ("" when absent).
func (e Event) Value() string {
	if e.PropertyValue == nil {
		return ""
	}
	return *e.PropertyValue
}

// Handler acts on HubSpot events; each ignores the events it has no use
// for. An error leaves the event to be handled again later, so handlers
// are idempotent.
type Handler interface {
	HandleHubSpotEvent(ctx context.Context, ev Event) error
}

// Portals tells whether refhub knows a portal.
type Portals interface {
	Portal(ctx context.Context, hubID int64) (tenants.Portal, error)
}

// Deps are what the receiver works with.
type Deps struct {
	Inbox        *Inbox
	Portals      Portals
	ClientSecret string
	PublicURL    string // REFHUB_PUBLIC_URL: HubSpot signs {PublicURL}/hooks/hubspot
	Metrics      *Metrics
	Log          *slog.Logger
	Now          func() time.Time
}

// Receiver answers POST /hooks/hubspot.
type Receiver struct{ Deps }

// NewReceiver returns the webhook receiver.
func NewReceiver(d Deps) *Receiver { return &Receiver{d} }

// Receive checks the signature and the timestamp, keeps the events of
// portals refhub knows, stores them durably and answers 204. A request
// HubSpot did not sign (forged, stale, unsigned, tampered) is answered 401
// and changes nothing.
func (r *Receiver) Receive(c *gin.Context) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			r.Metrics.request("too_large")
			return apperr.New(apperr.TooLarge, "a HubSpot webhook batch is at most 256 KiB")
		}
		return apperr.New(apperr.Invalid, "could not read the request body")
	}
	uri := strings.TrimRight(r.PublicURL, "/") + Path
	if q := c.Request.URL.RawQuery; q != "" {
		uri += "?" + q
	}
	h := c.Request.Header
	if err := hubspot.VerifyWebhookV3(r.ClientSecret, c.Request.Method, uri, body,
		h.Get(hubspot.HeaderRequestTimestamp), h.Get(hubspot.HeaderSignatureV3), r.Now()); err != nil {
		r.Metrics.request(refusal(err))
		r.Log.Warn("hubspot webhook refused", "reason", refusal(err), "remote", c.ClientIP())
		return apperr.New(apperr.Unauthorized, "not signed by HubSpot for this app")
	}
	var events []Event
	if err := json.Unmarshal(body, &events); err != nil {
		r.Metrics.request("invalid")
		return apperr.New(apperr.Invalid, "the body is not a JSON array of HubSpot webhook events")
	}
	if len(events) > maxEvents {
		r.Metrics.request("invalid")
		return apperr.New(apperr.Invalid, "a batch holds at most 200 events")
	}
	r.Metrics.events("received", len(events))
	known, err := r.known(c, events)
	if err != nil {
		return &apperr.Error{Code: apperr.Unavailable, Message: "could not store the events; HubSpot will send them again", Err: err}
	}
	if len(known) > 0 {
		if err := r.Inbox.Store(c, known); err != nil {
			return &apperr.Error{Code: apperr.Unavailable, Message: "could not store the events; HubSpot will send them again", Err: err}
		}
	}
	r.Metrics.request("accepted")
	c.Status(http.StatusNoContent)
	return nil
}

// known returns the events of portals refhub knows; the others are
// counted and dropped (an uninstalled portal HubSpot still sends for).
func (r *Receiver) known(ctx context.Context, events []Event) ([]Event, error) {
	seen := map[int64]bool{}
	out := events[:0]
	for _, ev := range events {
		ok, checked := seen[ev.PortalID]
		if !checked {
			_, err := r.Portals.Portal(ctx, ev.PortalID)
			if err != nil && !errors.Is(err, tenants.ErrNotFound) {
				return nil, err
			}
			ok = err == nil
			seen[ev.PortalID] = ok
		}
		if ok {
			out = append(out, ev)
		} else {
			r.Metrics.events("unknown_portal", 1)
		}
	}
	return out, nil
}

// refusal names why a signature check failed, for metrics and logs.
func refusal(err error) string {
	switch {
	case errors.Is(err, hubspot.ErrWebhookUnsigned):
		return "unsigned"
	case errors.Is(err, hubspot.ErrWebhookStale):
		return "stale"
	}
	return "forged"
}
