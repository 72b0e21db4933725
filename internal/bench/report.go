package bench

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one line of the results table.
type Row struct {
	Section string // Ingest, Delivery, ...
	Name    string // what is measured
	Refhub  string // refhub's figure
	Base    string // the baseline's figure, or the ceiling
	Ratio   string // refhub against Base
	Limit   string // what limits the figure
}

// Target is one of the acceptance targets.
type Target struct {
	Name, Want, Got string
	OK              bool
}

// Report is the outcome of a run.
type Report struct {
	Started time.Time
	Took    time.Duration
	Quick   bool
	Machine Machine
	Rows    []Row
	Targets []Target

	// Invariants that do not depend on the machine's speed (the smoke test
	// checks them).
	RefreshPerExpiry       float64 // refresh calls per portal expiry
	RefreshMin, RefreshMax int     // refresh calls of the least and most refreshed portal
	RateLimited            int     // HubSpot 429 answers over every run
	Undelivered            int     // accepted signups not delivered at the end of a run
	Delivered              int     // signups delivered over every run

	ingestRatio, ingestRate, updateShare float64
	callsPerLead, callsPerDeal           float64
}

func (r *Report) add(row Row) { r.Rows = append(r.Rows, row) }

// check evaluates the targets of issue 6 on the figures measured.
func (r *Report) check() {
	r.Targets = nil
	if r.has("Ingest") {
		r.Targets = append(r.Targets,
			Target{"ingest: refhub / baseline (max throughput)", "≥ 0.80", fmt.Sprintf("%.2f", r.ingestRatio), r.ingestRatio >= 0.8},
			Target{"ingest: accepted signups/s", "≥ 5,000", thousands(r.ingestRate), r.ingestRate >= 5000})
	}
	if r.has("Delivery") {
		r.Targets = append(r.Targets, Target{"delivery, policy update: steady state / ceiling", "≥ 90 %",
			fmt.Sprintf("%.1f %%", 100*r.updateShare), r.updateShare >= 0.9})
	}
	if r.has("Leads") {
		r.Targets = append(r.Targets, Target{"HubSpot calls per lead under load (contacts + associations + counts)", "≤ 0.03",
			fmt.Sprintf("%.4f", r.callsPerLead), r.callsPerLead <= 0.03})
	}
	if r.has("Deals") {
		r.Targets = append(r.Targets, Target{"HubSpot calls per lead with its deal under load (contacts + referrer links + deals, in the steady state)", "≤ 0.03",
			fmt.Sprintf("%.4f", r.callsPerDeal), r.callsPerDeal <= 0.03})
	}
	if r.has("Token refresh") {
		r.Targets = append(r.Targets, Target{"refresh calls per portal expiry", "exactly 1.0",
			fmt.Sprintf("%.2f (min %d, max %d per portal)", r.RefreshPerExpiry, r.RefreshMin, r.RefreshMax),
			r.RefreshMin == 1 && r.RefreshMax == 1})
	}
	if r.has("Delivery") || r.has("Leads") || r.has("Deals") || r.has("Many portals") {
		r.Targets = append(r.Targets,
			Target{"HubSpot 429 answers", "0", fmt.Sprint(r.RateLimited), r.RateLimited == 0},
			Target{"accepted signups not delivered", "0", fmt.Sprint(r.Undelivered), r.Undelivered == 0})
	}
}

func (r *Report) has(section string) bool {
	for _, row := range r.Rows {
		if row.Section == section {
			return true
		}
	}
	return false
}

// WriteText prints the table and the targets for a terminal.
func (r *Report) WriteText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "section\tmeasurement\trefhub\tbaseline / ceiling\tratio\tlimited by")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", row.Section, row.Name, row.Refhub, row.Base, row.Ratio, row.Limit)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	for _, t := range r.Targets {
		fmt.Fprintf(w, "%-4s %s: %s (target %s)\n", mark(t.OK), t.Name, t.Got, t.Want)
	}
	fmt.Fprintf(w, "\n%s; %s; bench took %s\n", r.Machine.Summary(), r.Started.Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second))
}

func mark(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISS"
}

// Markdown renders the generated part of BENCHMARKS.md: machine, date,
// table and targets.
func (r *Report) Markdown() string {
	var b strings.Builder
	mode := ""
	if r.Quick {
		mode = " (-quick: smoke numbers, not a measurement)"
	}
	fmt.Fprintf(&b, "Run of %s%s, %s in all.\n\n", r.Started.Format("2006-01-02 15:04 MST"), mode, r.Took.Round(time.Second))
	b.WriteString(r.Machine.Markdown())
	b.WriteString("\n| section | measurement | refhub | baseline / ceiling | ratio | limited by |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", row.Section, row.Name, row.Refhub, row.Base, row.Ratio, row.Limit)
	}
	b.WriteString("\n| target | wanted | measured | |\n| --- | --- | --- | --- |\n")
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, mark(t.OK))
	}
	return b.String()
}

// Figure formatting.

func thousands(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// callList renders HubSpot calls by endpoint: "1,000 contacts.batch.upsert,
// 1 properties.list".
func callList(calls map[string]int) string {
	keys := slices.Sorted(maps.Keys(calls))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = thousands(float64(calls[k])) + " " + k
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f ms", float64(d)/1e6)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func bytesIEC(v float64) string {
	switch {
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.2f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}
