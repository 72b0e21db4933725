package tenants

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lookup is a normalized payload: the value at a field path.
type Lookup interface {
	Get(path string) (string, bool)
	Paths() []string
}

// MaxMappedFields bounds a mapping's size.
const MaxMappedFields = 100

// MaxFromPath bounds the Referral Factory field path a mapping reads (a
// payload has no longer path).
const MaxFromPath = 512

var propertyName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,99}$`)

// ValidationError lists what is wrong with a mapping (or with what Of
// names, e.g. "deal settings"), one sentence each.
type ValidationError struct {
	Problems []string
	Of       string // what was refused; "" is a mapping
}

func (e *ValidationError) Error() string {
	of := e.Of
	if of == "" {
		of = "mapping"
	}
	return "invalid " + of + ": " + strings.Join(e.Problems, "; ")
}

// Validate checks a mapping before it is saved.
func (m Mapping) Validate() error {
	var probs []string
	if !m.OnExisting.Valid() {
		probs = append(probs, fmt.Sprintf("on_existing must be update, skip or fill_empty, not %q", clip(string(m.OnExisting))))
	}
	if len(m.Fields) > MaxMappedFields {
		probs = append(probs, fmt.Sprintf("at most %d fields can be mapped", MaxMappedFields))
	}
	emails, targets := 0, map[string]bool{}
	for i, f := range m.Fields {
		switch {
		case strings.TrimSpace(f.From) == "":
			probs = append(probs, fmt.Sprintf("field %d: choose the Referral Factory field to read", i+1))
		case len(f.From) > MaxFromPath:
			probs = append(probs, fmt.Sprintf("field %d: the Referral Factory field path is longer than %d bytes", i+1, MaxFromPath))
		case !propertyName.MatchString(f.To):
			probs = append(probs, fmt.Sprintf("field %d: %q is not a HubSpot property name (lowercase letters, digits and _)", i+1, clip(f.To)))
		case targets[f.To]:
			probs = append(probs, fmt.Sprintf("field %d: property %q is mapped twice", i+1, f.To))
		}
		targets[f.To] = true
		if f.To == "email" {
			emails++
		}
	}
	if emails == 0 {
		probs = append(probs, "map a Referral Factory field to the HubSpot property email: contacts are matched by email")
	}
	for _, prop := range sortedKeys(m.Defaults) {
		if !propertyName.MatchString(prop) {
			probs = append(probs, fmt.Sprintf("default value: %q is not a HubSpot property name", clip(prop)))
		}
		if prop == "email" {
			probs = append(probs, "email cannot have a default value: every contact needs its own")
		}
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// ErrNoEmail is what Apply's *NoEmailError matches: the payload has no
// usable email where the mapping reads it.
var ErrNoEmail = errors.New("no email")

// Apply turns a payload into HubSpot properties: every mapped field with a
// value, then the default values for properties no field set. The email is
// trimmed and lowercased; a missing or malformed one is an error that says
// where the mapping looked.
func (m Mapping) Apply(p Lookup) (map[string]string, error) {
	props := make(map[string]string, len(m.Fields)+len(m.Defaults))
	emailFrom := ""
	for _, f := range m.Fields {
		if f.To == "email" {
			emailFrom = f.From
		}
		if v, ok := p.Get(f.From); ok && strings.TrimSpace(v) != "" {
			props[f.To] = v
		}
	}
	for prop, v := range m.Defaults {
		if _, set := props[prop]; !set && v != "" {
			props[prop] = v
		}
	}
	email := strings.ToLower(strings.TrimSpace(props["email"]))
	if email == "" {
		return nil, &NoEmailError{Problem: fmt.Sprintf("the mapping reads the email from %q and the payload has no value there (fields received: %s)",
			clip(emailFrom), listPaths(p.Paths(), 12))}
	}
	if err := checkEmailShape(email); err != nil {
		return nil, err
	}
	props["email"] = email
	return props, nil
}

// checkEmailShape refuses emails no mail system would accept and that could
// smuggle data (line breaks, spaces, control characters). Everything else is
// left to HubSpot, whose verdict is authoritative.
func checkEmailShape(email string) error {
	if len(email) > 254 {
		return &NoEmailError{Problem: "the email is longer than 254 characters"}
	}
	for _, r := range email {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return &NoEmailError{Problem: fmt.Sprintf("the email %q contains spaces, line breaks or control characters", email)}
		}
	}
	return nil
}

// listPaths names the first n paths, each cut to a readable length, so
// the message stays small whatever the payload.
func listPaths(paths []string, n int) string {
	if len(paths) == 0 {
		return "none"
	}
	shown := make([]string, 0, min(n, len(paths)))
	for _, p := range paths[:min(n, len(paths))] {
		shown = append(shown, clip(p))
	}
	if len(paths) > n {
		return strings.Join(shown, ", ") + fmt.Sprintf(" and %d more", len(paths)-n)
	}
	return strings.Join(shown, ", ")
}

// clipLen is how much of a name a message repeats.
const clipLen = 64

// clip cuts s to its first clipLen bytes (at a character boundary) and
// marks the cut.
func clip(s string) string {
	if len(s) <= clipLen {
		return s
	}
	cut := clipLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
