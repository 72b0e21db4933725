// Package privacy honours a person's request to be forgotten: HubSpot's
// contact.privacyDeletion (through /hooks/hubspot) and an admin's
// POST /api/v1/forget delete everything refhub keeps about that person in
// the workspace — activity and payloads, dead letters, refused requests
// (and so the last payload sample), queued signups (dropped, never sent),
// queued qualifications, and the dedupe markers and tallies that name
// them. Each deletion is recorded without personal data: when, how, and
// how many records.
package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/hshooks"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// Keeper is an owner of data about people beyond the event queue (the
// qualifications, the leads): it deletes what names one of emails or
// contactIDs in a portal and says how many records it deleted.
type Keeper interface {
	Forget(ctx context.Context, hub int64, emails, contactIDs []string) (int, error)
}

// Store finds portals and workspaces.
type Store interface {
	Portal(ctx context.Context, hubID int64) (tenants.Portal, error)
	Portals(ctx context.Context, wsID string) ([]tenants.Portal, error)
}

// Deletion is the record of one deletion: no personal data.
type Deletion struct {
	At      time.Time `json:"at"`
	Via     string    `json:"via"` // "api" (forget) or "hubspot" (privacy deletion)
	Records int       `json:"records"`
}

// kept is how many deletions a workspace's log keeps.
const kept = 200

func logKey(ws string) string { return "{w:" + ws + "}:forgotten" }

// Service deletes a person's data.
type Service struct {
	Redis   redis.UniversalClient
	Store   Store
	Queue   *queue.Queue
	Keepers []Keeper
	Log     *slog.Logger
	Now     func() time.Time
}

// CheckEmail returns the normalized address or an error for the admin.
func CheckEmail(raw string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(raw))
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > 254 {
		return "", apperr.New(apperr.Invalid, "email: one email address, such as jane@example.com")
	}
	return e, nil
}

// Forget deletes everything the workspace keeps about the person with this
// email address in the portals sees admits (the calling member's).
func (s *Service) Forget(ctx context.Context, ws, email string, sees func(hub int64) bool) (Deletion, error) {
	e, err := CheckEmail(email)
	if err != nil {
		return Deletion{}, err
	}
	return s.forget(ctx, ws, "api", []string{e}, 0, "", sees)
}

// HandleHubSpotEvent honours contact.privacyDeletion: the contact's emails
// are found in what refhub delivered to it, then forgotten across the
// portal's workspace.
func (s *Service) HandleHubSpotEvent(ctx context.Context, ev hshooks.Event) error {
	if ev.SubscriptionType != "contact.privacyDeletion" {
		return nil
	}
	p, err := s.Store.Portal(ctx, ev.PortalID)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.forget(ctx, p.WorkspaceID, "hubspot", nil, ev.PortalID, strconv.FormatInt(ev.ObjectID, 10),
		func(int64) bool { return true })
	return err
}

// forget deletes in every portal of ws that sees admits what names one of
// emails, or the contact of hub.
func (s *Service) forget(ctx context.Context, ws, via string, emails []string, hub int64, contact string,
	sees func(int64) bool) (Deletion, error) {
	all, err := s.Store.Portals(ctx, ws)
	if err != nil {
		return Deletion{}, err
	}
	var portals []tenants.Portal
	for _, p := range all {
		if sees(p.HubID) {
			portals = append(portals, p)
		}
	}
	n := 0
	if contact != "" {
		// First the contact's own portal: its events say which emails it had.
		gone, err := s.Queue.Forget(ctx, hub, matcher(emails, hub, contact))
		if err != nil {
			return Deletion{}, err
		}
		n += len(gone)
		emails = withEmailsOf(emails, gone)
	}
	for _, p := range portals {
		gone, err := s.Queue.Forget(ctx, p.HubID, matcher(emails, hub, contact))
		if err != nil {
			return Deletion{}, err
		}
		n += len(gone)
		var contacts []string
		if p.HubID == hub {
			contacts = []string{contact}
		}
		for _, k := range s.Keepers {
			m, err := k.Forget(ctx, p.HubID, emails, contacts)
			if err != nil {
				return Deletion{}, fmt.Errorf("forget in portal %d: %w", p.HubID, err)
			}
			n += m
		}
	}
	d := Deletion{At: s.Now().UTC(), Via: via, Records: n}
	raw, _ := json.Marshal(d)
	pipe := s.Redis.TxPipeline()
	pipe.LPush(ctx, logKey(ws), raw)
	pipe.LTrim(ctx, logKey(ws), 0, kept-1)
	if _, err := pipe.Exec(ctx); err != nil {
		return d, err
	}
	s.Log.Info("person forgotten", "workspace", ws, "via", via, "records", n)
	return d, nil
}

// matcher matches the events about the person: by email (the event's, or
// any payload value holding it) or by the HubSpot contact delivered to.
func matcher(emails []string, hub int64, contact string) func(*queue.Event) bool {
	return func(ev *queue.Event) bool {
		if contact != "" && ev.HubID == hub && ev.ContactID == contact {
			return true
		}
		for _, e := range emails {
			if strings.EqualFold(ev.Email, e) {
				return true
			}
			for _, f := range ev.Payload {
				if strings.Contains(strings.ToLower(f.Value), e) {
					return true
				}
			}
		}
		return false
	}
}

// withEmailsOf adds the emails of events to emails.
func withEmailsOf(emails []string, evs []queue.Event) []string {
	for _, ev := range evs {
		e := strings.ToLower(ev.Email)
		if e != "" && !contains(emails, e) {
			emails = append(emails, e)
		}
	}
	return emails
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Deletions returns a workspace's recorded deletions, newest first.
func (s *Service) Deletions(ctx context.Context, ws string) ([]Deletion, error) {
	raws, err := s.Redis.LRange(ctx, logKey(ws), 0, kept-1).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Deletion, 0, len(raws))
	for _, r := range raws {
		var d Deletion
		if json.Unmarshal([]byte(r), &d) == nil {
			out = append(out, d)
		}
	}
	return out, nil
}
