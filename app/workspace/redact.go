package workspace

import (
	"strings"

	"github.com/refhub/refhub/app/payload"
)

// secretish are field-name fragments whose values are never shown.
var secretish = []string{"token", "secret", "password", "passwd", "apikey", "api_key", "credential", "authorization", "signature"}

// RedactFields masks what a payload view must not show in full: values of
// secret-looking fields entirely, email addresses partly, and long values
// are shortened.
func RedactFields(fields []payload.Field) []payload.Field {
	out := make([]payload.Field, len(fields))
	for i, f := range fields {
		out[i] = payload.Field{Path: f.Path, Value: RedactValue(f.Path, f.Value)}
	}
	return out
}

// RedactValue is one field's value as a page or the API may show it (see
// RedactFields).
func RedactValue(path, v string) string {
	lp := strings.ToLower(path)
	for _, s := range secretish {
		if strings.Contains(lp, s) {
			return "••••••"
		}
	}
	if strings.Contains(v, "@") && !strings.ContainsAny(v, " \t\r\n") {
		return maskEmail(v)
	}
	if len(v) > 300 {
		return v[:300] + "…"
	}
	return v
}

// maskEmail keeps the first letter of the local part and the domain:
// "jane.doe@example.com" → "j•••@example.com".
func maskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" {
		return "•••"
	}
	r := []rune(local)
	return string(r[0]) + "•••@" + domain
}
