package hubspottest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// propIssue is one invalid property value, serialized into the message of
// a VALIDATION_ERROR exactly as HubSpot embeds it.
type propIssue struct {
	IsValid               bool   `json:"isValid"`
	Message               string `json:"message"`
	Error                 string `json:"error"`
	Name                  string `json:"name"`
	LocalizedErrorMessage string `json:"localizedErrorMessage"`
}

func issue(name, code, msg string) propIssue {
	return propIssue{Message: msg, Error: code, Name: name, LocalizedErrorMessage: msg}
}

// issuesMessage renders HubSpot's "Property values were not valid: [...]".
func issuesMessage(issues []propIssue) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(issues); err != nil {
		return "Property values were not valid"
	}
	return "Property values were not valid: " + strings.TrimSuffix(b.String(), "\n")
}

var (
	numberPattern = regexp.MustCompile(`^-?(\d+(\.\d+)?|\.\d+)$`)
	epochPattern  = regexp.MustCompile(`^-?\d+$`)
	digitsPattern = regexp.MustCompile(`^\d+$`)
)

const dayMillis = 24 * 60 * 60 * 1000

// validateProps checks every value against the portal's definitions and
// returns the issues (sorted by property name) and the normalized values
// to store. Callers hold s.mu.
func (sc *schema) validateProps(props map[string]string) ([]propIssue, map[string]string) {
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	var issues []propIssue
	out := make(map[string]string, len(props))
	for _, n := range names {
		def, ok := sc.props[n]
		if !ok {
			issues = append(issues, issue(n, "PROPERTY_DOESNT_EXIST", fmt.Sprintf("Property %q does not exist", n)))
			continue
		}
		if def.ModificationMetadata.ReadOnlyValue || def.Calculated {
			issues = append(issues, issue(n, "READ_ONLY_VALUE",
				fmt.Sprintf("%q is a read only property; its value cannot be set.", n)))
			continue
		}
		v, bad := normalizeValue(def, props[n])
		if bad != nil {
			issues = append(issues, *bad)
			continue
		}
		out[n] = v
	}
	return issues, out
}

// normalizeValue validates one value and returns the form HubSpot stores.
// The empty string always clears a property.
func normalizeValue(def *Property, v string) (string, *propIssue) {
	if v == "" {
		return "", nil
	}
	name := def.Name
	fail := func(code, msg string) (string, *propIssue) {
		is := issue(name, code, msg)
		return "", &is
	}
	switch {
	case name == "email":
		if !validEmail(v) {
			return fail("INVALID_EMAIL", fmt.Sprintf("Email address %s is invalid", v))
		}
		return strings.ToLower(v), nil
	case def.Type == "number":
		if !numberPattern.MatchString(v) {
			return fail("INVALID_INTEGER", fmt.Sprintf("%s was not a valid number", v))
		}
		return v, nil
	case def.Type == "date":
		return normalizeDate(name, v)
	case def.Type == "datetime":
		return normalizeDatetime(name, v)
	case def.Type == "bool":
		if v != "true" && v != "false" {
			return fail("INVALID_BOOLEAN", fmt.Sprintf("%s was not a valid boolean; use true or false", v))
		}
		return v, nil
	case def.Type == "enumeration":
		return normalizeEnum(def, v)
	}
	return v, nil
}

func normalizeDate(name, v string) (string, *propIssue) {
	if epochPattern.MatchString(v) {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			is := issue(name, "INVALID_DATE", fmt.Sprintf("%s was not a valid date", v))
			return "", &is
		}
		t := time.UnixMilli(ms).UTC()
		if ms%dayMillis != 0 {
			is := issue(name, "INVALID_DATE", fmt.Sprintf("%s is at %s UTC, not midnight!", v, t.Format("15:04:05.000")))
			return "", &is
		}
		return t.Format(time.DateOnly), nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		is := issue(name, "INVALID_DATE", fmt.Sprintf("%s was not a valid date; use YYYY-MM-DD or epoch milliseconds at midnight UTC", v))
		return "", &is
	}
	return t.Format(time.DateOnly), nil
}

func normalizeDatetime(name, v string) (string, *propIssue) {
	if epochPattern.MatchString(v) {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			return hsTime(time.UnixMilli(ms)), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return hsTime(t), nil
		}
	}
	is := issue(name, "INVALID_DATETIME", fmt.Sprintf("%s was not a valid datetime; use ISO 8601 or epoch milliseconds", v))
	return "", &is
}

// normalizeEnum checks option values; checkbox values are ";"-separated and
// a leading ";" (append to the current value) is kept for the writer.
func normalizeEnum(def *Property, v string) (string, *propIssue) {
	parts := []string{v}
	if def.FieldType == "checkbox" {
		parts = strings.Split(strings.TrimPrefix(v, ";"), ";")
	}
	for _, part := range parts {
		if part == "" && def.FieldType == "checkbox" {
			continue
		}
		ok := def.hasOption(part)
		if def.ExternalOptions {
			ok = digitsPattern.MatchString(part)
		}
		if !ok {
			is := issue(def.Name, "INVALID_OPTION", fmt.Sprintf("%q was not one of the allowed options: [%s]", part, optionValues(def)))
			return "", &is
		}
	}
	return v, nil
}

func optionValues(def *Property) string {
	if def.ExternalOptions {
		return "numeric " + strings.ToLower(def.ReferencedObjectType) + " ids"
	}
	vals := make([]string, len(def.Options))
	for i, o := range def.Options {
		vals[i] = o.Value
	}
	return strings.Join(vals, ", ")
}

// validEmail is a pragmatic RFC 5321/5322 check: one @, a dot-atom local
// part, and a domain of valid DNS labels ending in an alphabetic TLD.
func validEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || strings.Contains(domain, "@") || local == "" || len(local) > 64 || len(e) > 254 {
		return false
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	for _, r := range local {
		if !isAtext(r) && r != '.' {
			return false
		}
	}
	labels := strings.Split(strings.ToLower(domain), ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !validLabel(l) {
			return false
		}
	}
	tld := labels[len(labels)-1]
	if strings.HasPrefix(tld, "xn--") {
		return len(tld) > 4
	}
	if len(tld) < 2 {
		return false
	}
	for _, r := range tld {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

func isAtext(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("!#$%&'*+/=?^_`{|}~-", r)
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, r := range l {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
