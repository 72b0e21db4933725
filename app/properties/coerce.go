package properties

import (
	"strconv"
	"strings"
	"time"

	"github.com/refhub/refhub/hubspot"
)

// Coerce is the one rule for what a value becomes for a property of def's
// type (HubSpot is strict since 2023): "1,234" for a number, "Yes" for a
// checkbox, "2026-03-04 10:00:00" for a date, an option's label for its
// internal value. It returns the value to send and whether HubSpot will
// take it. A value it cannot read is returned as is, with false: delivery
// sends it anyway and reports HubSpot's verdict, and the mapping editor
// warns about it. Options HubSpot fills from elsewhere (external options)
// are not known here, so any value is taken as it is.
func Coerce(value string, def hubspot.Property) (string, bool) {
	switch def.Type {
	case "number":
		n := strings.ReplaceAll(value, ",", "")
		if _, err := strconv.ParseFloat(n, 64); err == nil {
			return n, true
		}
		return value, false
	case "bool":
		switch strings.ToLower(value) {
		case "true", "yes", "1", "on", "y":
			return "true", true
		case "false", "no", "0", "off", "n":
			return "false", true
		}
		return value, false
	case "date":
		if t, ok := parseTime(value); ok {
			return t.UTC().Format("2006-01-02"), true
		}
		return value, false
	case "datetime":
		if t, ok := parseTime(value); ok {
			return t.UTC().Format(time.RFC3339), true
		}
		return value, false
	case "enumeration":
		if len(def.Options) == 0 || def.ExternalOptions {
			return value, true
		}
		return matchOptions(value, def.Options)
	}
	return value, true
}

// CoerceAll applies Coerce to every value of props that has a definition
// in defs (trimmed; empty values are left alone). With no definitions
// (they could not be listed) values are sent as received.
func CoerceAll(props map[string]string, defs map[string]hubspot.Property) {
	if defs == nil {
		return
	}
	for k, v := range props {
		d, ok := defs[k]
		if !ok || v == "" {
			continue
		}
		props[k], _ = Coerce(strings.TrimSpace(v), d)
	}
}

// timeLayouts are the date forms Coerce reads, besides epoch milliseconds.
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

// matchOptions maps each ;-separated part of v to an option's internal
// value by value or label, ignoring case; it reports whether every part
// named an option. Unknown parts are kept for HubSpot to report.
func matchOptions(v string, opts []hubspot.Option) (string, bool) {
	parts := strings.Split(v, ";")
	all := true
	for i, p := range parts {
		p = strings.TrimSpace(p)
		parts[i] = p
		found := false
		for _, o := range opts {
			if strings.EqualFold(o.Value, p) || strings.EqualFold(o.Label, p) {
				parts[i], found = o.Value, true
				break
			}
		}
		all = all && found
	}
	return strings.Join(parts, ";"), all
}

// IsOption reports whether every ;-separated part of v names one of opts by
// value or label (the editor offers such a value in its select).
func IsOption(v string, opts []hubspot.Option) bool {
	_, ok := matchOptions(v, opts)
	return ok
}
