package delivery

import (
	"strconv"
	"strings"
	"time"

	"github.com/refhub/refhub/hubspot"
)

// coerce adapts values to the portal's property types where the intent is
// unambiguous (HubSpot is strict since 2023): "1,234" for a number, "Yes" for
// a checkbox, "2026-03-04 10:00:00" for a date, an option's label for its
// internal value. Anything it cannot read is sent as is, and HubSpot's
// verdict is reported.
func coerce(props map[string]string, defs map[string]hubspot.Property) {
	if defs == nil {
		return
	}
	for k, v := range props {
		d, ok := defs[k]
		if !ok || v == "" {
			continue
		}
		props[k] = coerceValue(strings.TrimSpace(v), d)
	}
}

func coerceValue(v string, d hubspot.Property) string {
	switch d.Type {
	case "number":
		n := strings.ReplaceAll(v, ",", "")
		if _, err := strconv.ParseFloat(n, 64); err == nil {
			return n
		}
	case "bool":
		switch strings.ToLower(v) {
		case "true", "yes", "1", "on", "y":
			return "true"
		case "false", "no", "0", "off", "n":
			return "false"
		}
	case "date":
		if t, ok := parseTime(v); ok {
			return t.UTC().Format("2006-01-02")
		}
	case "datetime":
		if t, ok := parseTime(v); ok {
			return t.UTC().Format(time.RFC3339)
		}
	case "enumeration":
		return matchOptions(v, d)
	}
	return v
}

var timeLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02",
	"2006/01/02", "02.01.2006",
}

func parseTime(v string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 1e11 {
		return time.UnixMilli(ms), true
	}
	return time.Time{}, false
}

// matchOptions maps each ;-separated value to an option's internal value by
// value or label, ignoring case. Unknown values are kept for HubSpot to
// report.
func matchOptions(v string, d hubspot.Property) string {
	if len(d.Options) == 0 || d.ExternalOptions {
		return v
	}
	parts := strings.Split(v, ";")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		parts[i] = p
		for _, o := range d.Options {
			if strings.EqualFold(o.Value, p) || strings.EqualFold(o.Label, p) {
				parts[i] = o.Value
				break
			}
		}
	}
	return strings.Join(parts, ";")
}
