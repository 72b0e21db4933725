package app

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/app/queue"
)

// Limits bound what one tenant can cost refhub, whatever it sends: the
// backlog a source and a workspace may hold, how many sources and API
// tokens a workspace may have, and how many refused requests a source
// keeps. RELIABILITY.md ("Limits") lists each with what a sender or user
// sees past it.
type Limits struct {
	SourceBacklog         int64 // REFHUB_SOURCE_BACKLOG: signups a source may hold (queued or dead letters)
	SourceBacklogBytes    int64 // REFHUB_SOURCE_BACKLOG_BYTES: their payload bytes
	WorkspaceBacklog      int64 // REFHUB_WORKSPACE_BACKLOG: signups a workspace may hold
	WorkspaceBacklogBytes int64 // REFHUB_WORKSPACE_BACKLOG_BYTES
	Sources               int   // REFHUB_MAX_SOURCES: sources per workspace
	APITokens             int   // REFHUB_MAX_API_TOKENS: API tokens per workspace
	RefusedKept           int   // REFHUB_REFUSED_KEPT: refused requests kept per source (and portal)
}

// quotas are the backlog quotas of l, as the webhook checks them.
func (l Limits) quotas() ingest.Quotas {
	return ingest.Quotas{Source: queue.Backlog{Events: l.SourceBacklog, Bytes: l.SourceBacklogBytes},
		Workspace: queue.Backlog{Events: l.WorkspaceBacklog, Bytes: l.WorkspaceBacklogBytes}}
}

// limitVars are the variables of Limits with their defaults, in order.
var limitVars = []struct {
	name, def, what string
	bytes           bool
}{
	{"REFHUB_SOURCE_BACKLOG", "100000", "signups one source may hold", false},
	{"REFHUB_SOURCE_BACKLOG_BYTES", "256MiB", "payload bytes one source may hold", true},
	{"REFHUB_WORKSPACE_BACKLOG", "1000000", "signups one workspace may hold", false},
	{"REFHUB_WORKSPACE_BACKLOG_BYTES", "1GiB", "payload bytes one workspace may hold", true},
	{"REFHUB_MAX_SOURCES", "1000", "sources per workspace", false},
	{"REFHUB_MAX_API_TOKENS", "50", "API tokens per workspace", false},
	{"REFHUB_REFUSED_KEPT", "1000", "refused requests kept per source", false},
}

// parseLimits reads Limits from the environment.
func parseLimits(get func(name, def string) string) (Limits, []error) {
	var errs []error
	vals := make([]int64, len(limitVars))
	for i, v := range limitVars {
		raw := get(v.name, v.def)
		n, err := strconv.ParseInt(raw, 10, 64)
		if v.bytes {
			n, err = parseSize(raw)
		}
		if err != nil || n < 1 {
			want := "a whole number ≥ 1"
			if v.bytes {
				want = "a size such as 256MiB, 1GiB or 1048576 (bytes)"
			}
			errs = append(errs, &ConfigError{v.name, fmt.Sprintf("%s: %s (default %s)", v.what, want, v.def)})
		}
		vals[i] = n
	}
	return Limits{SourceBacklog: vals[0], SourceBacklogBytes: vals[1], WorkspaceBacklog: vals[2],
		WorkspaceBacklogBytes: vals[3], Sources: int(vals[4]), APITokens: int(vals[5]), RefusedKept: int(vals[6])}, errs
}

// DefaultLimits are the limits of a configuration that sets none.
func DefaultLimits() Limits {
	l, _ := parseLimits(func(_, def string) string { return def })
	return l
}

// parseSize reads a byte count: digits, optionally followed by KiB, MiB or
// GiB.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for unit, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			s, mult = strings.TrimSpace(n), m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, errors.New("not a size")
	}
	return n * mult, nil
}

// parseProxies reads REFHUB_TRUSTED_PROXIES: comma-separated addresses or
// CIDR ranges of the load balancers in front of refhub, whose
// X-Forwarded-For header names the client.
func parseProxies(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range", p)
			}
		}
		out = append(out, p)
	}
	return out, nil
}
