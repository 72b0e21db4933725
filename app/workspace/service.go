// Package workspace is the operations layer: every rule the JSON API and
// the settings pages share lives here once — portals (summaries,
// disconnect, delete, properties, status), sources (create, rename, move,
// secrets, mapping, routes, recommended properties, test signup), events
// (activity, retry, dead letters and replay, why one is waiting), API
// tokens and members. Every operation acts on resources already authorized
// against the caller's workspace and member (Portals.Load and Sources.Load
// with web.Loader are how they are).
package workspace

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/deals"
	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/app/leads"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// Deps are what the operations work with.
type Deps struct {
	Redis      redis.UniversalClient
	Store      *tenants.RedisStore
	Sources    *tenants.SourceCache // the write path of sources
	Queue      *queue.Queue
	Limiter    *ratelimit.Limiter
	Tokens     *oauth.Tokens
	HubSpot    *hubspot.Client
	Properties *properties.Cache
	Leads      *leads.Service
	Deals      *deals.Service
	Intake     *ingest.Intake
	Backfill   SourcePurger // a source's backfill jobs and schedule
	Quota      *ingest.Quota
	Wake       func() // tells this process's delivery engine that work arrived
	Log        *slog.Logger
	Now        func() time.Time
	PublicURL  string // REFHUB_PUBLIC_URL: webhook URLs are under it
	AppBase    string // HUBSPOT_APP_BASE: links to contacts are under it
	// Owners are the rooms keeping more of a portal's or a source's data
	// (qualifications): deleting one asks each to remove its own.
	Owners []Owner
}

// Owner is a room keeping data of portals and sources beyond the queue's,
// and records in their activity that are not signups (qualifications): it
// removes its data with a portal or source, and replays its dead letters.
type Owner interface {
	PurgePortal(ctx context.Context, hub int64) error
	PurgeSource(ctx context.Context, src tenants.Source) error
	ReplayRecords(ctx context.Context, evs []queue.Event) (int, error)
}

// SourcePurger removes what a room keeps about a deleted source.
type SourcePurger interface {
	PurgeSource(ctx context.Context, src string) error
}

// Service holds the operations, by the resource they act on.
type Service struct {
	Portals *Portals
	Sources *Sources
	Events  *Events
	Tokens  *Tokens
	Members *Members
}

// New returns the operations over d.
func New(d Deps) *Service {
	s := &Service{Portals: &Portals{d: &d}, Events: &Events{d: &d}, Tokens: &Tokens{d: &d}}
	s.Sources = &Sources{d: &d, events: s.Events, portals: s.Portals}
	s.Portals.sources = s.Sources
	s.Events.portals = s.Portals
	s.Members = &Members{d: &d, portals: s.Portals}
	return s
}
