package hubspottest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// WebhookConfig is what HubSpot holds for the app's webhooks: the settings
// and subscriptions of the project's webhooks component, plus how this
// simulator delivers.
type WebhookConfig struct {
	// TargetURL is where HubSpot posts event batches, and the URI it signs.
	// It must be https, or http on a loopback host.
	TargetURL             string
	MaxConcurrentRequests int
	Subscriptions         []WebhookSubscription
	// Timeout is how long HubSpot waits for an answer before it counts the
	// attempt as failed; default 5 s. It is real time, as it bounds a real
	// HTTP request.
	Timeout time.Duration
	// MaxAttempts is how many times an event is sent before it is dropped;
	// default 10, like HubSpot.
	MaxAttempts int
	// BatchSize is the most events in one request; default 100.
	BatchSize int
	// Client sends the requests; default a plain http.Client.
	Client *http.Client
}

// WebhookSubscription is one subscription of the webhooks component.
// Legacy types name the object ("contact.propertyChange"); generic ones
// ("object.propertyChange") name it in ObjectType. Inactive
// subscriptions send nothing.
type WebhookSubscription struct {
	ID               int64 // assigned when 0
	SubscriptionType string
	ObjectType       string
	PropertyName     string
	Active           bool
}

// WebhookEvent is one event of a webhook batch, with HubSpot's field names.
type WebhookEvent struct {
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
	ChangeSource     string  `json:"changeSource"`
	SourceID         string  `json:"sourceId,omitempty"`
	PropertyName     string  `json:"propertyName,omitempty"`
	PropertyValue    *string `json:"propertyValue,omitempty"`
}

// webhookState is the app's webhook configuration and the events waiting
// to be delivered; guarded by Server.mu.
type webhookState struct {
	cfg       *WebhookConfig
	pending   []pendingEvent
	attempts  []WebhookAttempt
	dropped   []WebhookEvent
	nextEvent int64
	nextSub   int64
	rng       *rand.Rand
}

// pendingEvent is an event waiting for its next attempt.
type pendingEvent struct {
	ev  WebhookEvent
	due time.Time
}

var (
	legacyType  = regexp.MustCompile(`^(contact|company|deal|ticket|product|line_item|conversation)\.(creation|deletion|propertyChange|associationChange|merge|restore|privacyDeletion)$`)
	genericType = regexp.MustCompile(`^object\.(creation|deletion|propertyChange|associationChange|merge|restore)$`)
)

// ConfigureWebhooks sets (or replaces) the app's webhook configuration.
// Events queue only for active subscriptions from then on; events already
// queued stay queued. It refuses what HubSpot's project upload refuses: a
// target that is not https (loopback http is allowed for tests), an
// unknown subscription type, a property change without a property.
func (s *Server) ConfigureWebhooks(cfg WebhookConfig) error {
	if err := checkTarget(cfg.TargetURL); err != nil {
		return err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > 100 {
		cfg.BatchSize = 100
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	subs := append([]WebhookSubscription(nil), cfg.Subscriptions...)
	for i := range subs {
		if err := checkSubscription(subs[i]); err != nil {
			return fmt.Errorf("hubspottest: subscription %d: %w", i, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range subs {
		if subs[i].ID == 0 {
			s.hooks.nextSub++
			subs[i].ID = s.hooks.nextSub
		}
	}
	cfg.Subscriptions = subs
	s.hooks.cfg = &cfg
	return nil
}

func checkTarget(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("hubspottest: webhook target %q is not an absolute URL", raw)
	}
	host := u.Hostname()
	loopback := host == "localhost" || net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback()
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		return fmt.Errorf("hubspottest: webhook target %q must be https", raw)
	}
	return nil
}

func checkSubscription(sub WebhookSubscription) error {
	t := sub.SubscriptionType
	generic := genericType.MatchString(t)
	switch {
	case !generic && !legacyType.MatchString(t):
		return fmt.Errorf("unknown subscriptionType %q", t)
	case strings.HasSuffix(t, ".privacyDeletion") && t != "contact.privacyDeletion":
		return fmt.Errorf("%s: only contacts have privacy deletions", t)
	case generic && sub.ObjectType == "":
		return fmt.Errorf("%s needs an objectType", t)
	case !generic && sub.ObjectType != "":
		return fmt.Errorf("%s names its object in the type; objectType %q is not allowed", t, sub.ObjectType)
	case strings.HasSuffix(t, ".propertyChange") && sub.PropertyName == "":
		return errors.New(t + " needs a propertyName")
	case !strings.HasSuffix(t, ".propertyChange") && sub.PropertyName != "":
		return fmt.Errorf("%s takes no propertyName", t)
	}
	return nil
}

// changeSource says who made a change, as events report it.
type changeSource struct {
	source, sourceID string
}

// uiChange is a change a user made in HubSpot: the portal's first user.
func uiChange(pt *portal) changeSource {
	return changeSource{"CRM_UI", "userId:" + strconv.FormatInt(pt.info.Users[0].ID, 10)}
}

// apiChange is a change the app made through the API.
func (s *Server) apiChange() changeSource {
	return changeSource{"INTEGRATION", strconv.FormatInt(s.opts.AppID, 10)}
}

// subscribed returns the active subscriptions an event of this type on
// kind k (and property, for property changes) matches; callers hold s.mu.
func (s *Server) subscribed(k *objectKind, action, property string) []WebhookSubscription {
	if s.hooks.cfg == nil {
		return nil
	}
	var out []WebhookSubscription
	for _, sub := range s.hooks.cfg.Subscriptions {
		legacy := sub.SubscriptionType == k.singular+"."+action
		generic := sub.SubscriptionType == "object."+action && kindFromPath(sub.ObjectType) == k
		if sub.Active && (legacy || generic) && sub.PropertyName == property {
			out = append(out, sub)
		}
	}
	return out
}

// queue adds one event per matching subscription; callers hold s.mu.
func (s *Server) queue(pt *portal, k *objectKind, id int64, action string, ev WebhookEvent, now time.Time) {
	for _, sub := range s.subscribed(k, action, ev.PropertyName) {
		s.hooks.nextEvent++
		e := ev
		e.EventID = firstEventID + s.hooks.nextEvent
		e.SubscriptionID = sub.ID
		e.PortalID = pt.info.HubID
		e.AppID = s.opts.AppID
		e.OccurredAt = now.UnixMilli()
		e.SubscriptionType = sub.SubscriptionType
		e.ObjectID = id
		if strings.HasPrefix(sub.SubscriptionType, "object.") {
			e.ObjectTypeID = k.typeID
		}
		s.hooks.pending = append(s.hooks.pending, pendingEvent{ev: e, due: now})
	}
}

// firstEventID keeps event ids in HubSpot's range and apart from record ids.
const firstEventID = 4_000_000_000

// queuePropertyChange queues <object>.propertyChange events; callers hold
// s.mu.
func (s *Server) queuePropertyChange(pt *portal, k *objectKind, id int64, property, value string, src changeSource, now time.Time) {
	s.queue(pt, k, id, "propertyChange", WebhookEvent{ChangeSource: src.source, SourceID: src.sourceID,
		PropertyName: property, PropertyValue: &value}, now)
}

// queueDeletion queues the events of a record's deletion (action
// "deletion" or "privacyDeletion"); callers hold s.mu.
func (s *Server) queueDeletion(pt *portal, k *objectKind, id int64, action string, src changeSource, now time.Time) {
	s.queue(pt, k, id, action, WebhookEvent{ChangeFlag: "DELETED", ChangeSource: src.source, SourceID: src.sourceID}, now)
}
