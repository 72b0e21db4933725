// Package qualify closes the referral loop: when a lead's HubSpot contact
// (or a deal associated with it) reaches the value a source's rule names,
// refhub qualifies that referral at Referral Factory by calling the
// customer's inbound qualify URL with the lead's code — exactly once per
// referral, across HubSpot's retries and duplicates, replicas and restarts;
// failures retry with backoff and end in the source's dead letters; every
// qualification is in the source's activity.
package qualify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	refhub "github.com/refhub/refhub"
	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/internal/redisscan"
	"github.com/refhub/refhub/tenants"
)

// Objects a rule can watch.
const (
	Contact = "contact"
	Deal    = "deal"
)

// DealScope is the scope deal rules need: HubSpot sends deal events, and
// lets refhub read a deal's contacts, only with it.
const DealScope = "crm.objects.deals.read"

// Condition is when a lead qualifies: its contact's property (or the
// dealstage of a deal associated with it) reaches Value.
type Condition struct {
	Object   string `json:"object"`
	Property string `json:"property"`
	Value    string `json:"value"`
}

// Rule is a source's qualification rule. InboundURL carries the
// customer's secret token: it is stored sealed and shown redacted.
type Rule struct {
	InboundURL string    `json:"-"`
	When       Condition `json:"when"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Matches reports whether a change of object's property to value meets
// the rule (values compare case-insensitively, as HubSpot's internal
// option values are lower case but admins type labels' case).
func (r Rule) Matches(object, property, value string) bool {
	return r.When.Object == object && r.When.Property == property && strings.EqualFold(r.When.Value, value)
}

// Input is what PUT /api/v1/sources/{id}/qualification takes.
type Input struct {
	InboundURL string    `json:"rf_inbound_url"`
	When       Condition `json:"when"`
}

// View is a rule as the API and the pages show it.
type View struct {
	Configured bool      `json:"configured"`     // false: the source has no rule (the rest is empty)
	InboundURL string    `json:"rf_inbound_url"` // redacted
	When       Condition `json:"when"`
	UpdatedAt  time.Time `json:"updated_at"`
	// ReconnectNeeded: a deal rule on a portal installed before refhub asked
	// for deal access; it starts working once the portal is reconnected.
	ReconnectNeeded bool `json:"reconnect_needed"`
}

// Sealer encrypts the inbound URL at rest (oauth.Vault).
type Sealer interface {
	SealString(plaintext, aad string) (string, error)
	OpenString(sealed, aad string) (string, error)
}

// stored is a rule as kept in Redis.
type stored struct {
	SealedURL string    `json:"sealed_url"`
	When      Condition `json:"when"`
	UpdatedAt time.Time `json:"updated_at"`
}

func ruleKey(source string) string { return "{s:" + source + "}:qualify" }
func ruleAAD(source string) string { return "source:" + source + ":qualify" }

// Rules stores each source's rule.
type Rules struct {
	rdb   redis.UniversalClient
	vault Sealer
	rf    *referralfactory.Client
	now   func() time.Time
}

// NewRules returns the rule store; rf validates inbound URLs.
func NewRules(rdb redis.UniversalClient, vault Sealer, rf *referralfactory.Client, now func() time.Time) *Rules {
	return &Rules{rdb: rdb, vault: vault, rf: rf, now: now}
}

// InputError is a rule refused, with a sentence for the admin.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Watched returns the properties HubSpot tells refhub about for object
// (the subscriptions of hubspot-webhooks.json): the only ones a rule can
// watch.
func Watched(object string) []string {
	var out []string
	for _, s := range refhub.Webhooks().All() {
		if !strings.HasSuffix(s.SubscriptionType, ".propertyChange") || !s.Active {
			continue
		}
		obj := s.ObjectType
		if obj == "" {
			obj, _, _ = strings.Cut(s.SubscriptionType, ".")
		}
		if obj == object {
			out = append(out, s.PropertyName)
		}
	}
	return out
}

// check validates in and returns the rule it makes.
func (r *Rules) check(in Input) (Rule, error) {
	if _, err := r.rf.ValidateInboundURL(strings.TrimSpace(in.InboundURL)); err != nil {
		var ie *referralfactory.InboundURLError
		if errors.As(err, &ie) {
			return Rule{}, &InputError{"rf_inbound_url: " + ie.Reason + " (copy the campaign's inbound qualify webhook URL from Referral Factory)"}
		}
		return Rule{}, &InputError{"rf_inbound_url: " + err.Error()}
	}
	w := Condition{Object: strings.TrimSpace(in.When.Object), Property: strings.TrimSpace(in.When.Property),
		Value: strings.TrimSpace(in.When.Value)}
	if w.Object != Contact && w.Object != Deal {
		return Rule{}, &InputError{`when.object: "contact" or "deal"`}
	}
	if watched := Watched(w.Object); !slices.Contains(watched, w.Property) {
		return Rule{}, &InputError{fmt.Sprintf("when.property: HubSpot tells refhub about changes of %s on a %s (%q is not among them)",
			strings.Join(watched, ", "), w.Object, w.Property)}
	}
	if w.Value == "" || len(w.Value) > 256 {
		return Rule{}, &InputError{"when.value: the value to reach, 1 to 256 characters (for a deal: the stage id)"}
	}
	return Rule{InboundURL: strings.TrimSpace(in.InboundURL), When: w, UpdatedAt: r.now().UTC()}, nil
}

// Put validates and stores a source's rule.
func (r *Rules) Put(ctx context.Context, src tenants.Source, in Input) (Rule, error) {
	rule, err := r.check(in)
	if err != nil {
		return Rule{}, err
	}
	sealed, err := r.vault.SealString(rule.InboundURL, ruleAAD(src.ID))
	if err != nil {
		return Rule{}, err
	}
	raw, err := json.Marshal(stored{SealedURL: sealed, When: rule.When, UpdatedAt: rule.UpdatedAt})
	if err != nil {
		return Rule{}, err
	}
	return rule, r.rdb.Set(ctx, ruleKey(src.ID), raw, 0).Err()
}

// Get returns a source's rule; ok is false when it has none.
func (r *Rules) Get(ctx context.Context, source string) (Rule, bool, error) {
	raw, err := r.rdb.Get(ctx, ruleKey(source)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Rule{}, false, nil
	}
	if err != nil {
		return Rule{}, false, err
	}
	var s stored
	if err := json.Unmarshal(raw, &s); err != nil {
		return Rule{}, false, fmt.Errorf("qualification rule of source %s: %w", source, err)
	}
	u, err := r.vault.OpenString(s.SealedURL, ruleAAD(source))
	if err != nil {
		return Rule{}, false, fmt.Errorf("qualification rule of source %s: %w", source, err)
	}
	return Rule{InboundURL: u, When: s.When, UpdatedAt: s.UpdatedAt}, true, nil
}

// Delete removes a source's rule (qualifications already queued then end
// in the dead letters: nothing says where to send them).
func (r *Rules) Delete(ctx context.Context, source string) error {
	return r.rdb.Del(ctx, ruleKey(source)).Err()
}

// ViewOf is how a rule is shown on portal p: the URL's token hidden, and
// whether the portal must be reconnected for it to work.
func ViewOf(rule Rule, p tenants.Portal) View {
	return View{Configured: true, InboundURL: Redact(rule.InboundURL), When: rule.When, UpdatedAt: rule.UpdatedAt,
		ReconnectNeeded: rule.When.Object == Deal && !slices.Contains(p.Scopes, DealScope)}
}

// Redact hides the token of an inbound URL: …/webhook/••••wxyz/qualify.
func Redact(u string) string {
	i := strings.Index(u, "/webhook/")
	j := strings.LastIndex(u, "/qualify")
	if i < 0 || j < i+len("/webhook/") {
		return "(set)"
	}
	tok := u[i+len("/webhook/") : j]
	tail := ""
	if len(tok) > 8 {
		tail = tok[len(tok)-4:]
	}
	return u[:i+len("/webhook/")] + "••••" + tail + u[j:]
}

// ResealAll re-encrypts every stored inbound URL with the vault's primary
// key (refhub reseal) and returns how many it rewrote.
func (r *Rules) ResealAll(ctx context.Context) (int, error) {
	keys, err := redisscan.Keys(ctx, r.rdb, "{s:*}:qualify")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		id := strings.TrimSuffix(strings.TrimPrefix(k, "{s:"), "}:qualify")
		raw, err := r.rdb.Get(ctx, k).Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return n, err
		}
		var st stored
		if err := json.Unmarshal(raw, &st); err != nil {
			return n, fmt.Errorf("qualification rule of source %s: %w", id, err)
		}
		u, err := r.vault.OpenString(st.SealedURL, ruleAAD(id))
		if err != nil {
			return n, fmt.Errorf("qualification rule of source %s: %w", id, err)
		}
		if st.SealedURL, err = r.vault.SealString(u, ruleAAD(id)); err != nil {
			return n, err
		}
		if raw, err = json.Marshal(st); err != nil {
			return n, err
		}
		if err := r.rdb.Set(ctx, k, raw, 0).Err(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
