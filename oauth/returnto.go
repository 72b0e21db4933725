package oauth

import (
	"net/url"
	"strings"
)

// maxReturnTo bounds a return_to path (it travels in the signed state).
const maxReturnTo = 2048

// LocalReturnTo returns p if it is a path of the settings app (under
// /app/) that every browser reads as such, and "" otherwise (the caller
// lands on /app/). A browser's URL parser strips tabs and newlines, reads
// a backslash as a slash and "//" as the start of another host, so that
// "/<TAB>/evil.example" or "/\evil.example" leave the site; p is therefore
// refused for anything but printable ASCII without spaces or backslashes,
// a scheme or host, a dot segment, an empty segment ("//"), or a
// percent-encoded slash, backslash or control character.
func LocalReturnTo(p string) string {
	if !strings.HasPrefix(p, "/app/") || len(p) > maxReturnTo {
		return ""
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	raw := strings.ToLower(u.EscapedPath())
	for _, enc := range []string{"%2f", "%5c", "%0", "%1", "%7f", "%20"} {
		if strings.Contains(raw, enc) {
			return ""
		}
	}
	if !strings.HasPrefix(u.Path, "/app/") || strings.Contains(u.Path, "//") || strings.ContainsAny(u.Path, "\\") {
		return ""
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return ""
		}
	}
	return p
}

// IsHTTPS reports whether rawURL's scheme is https, in any case
// ("HTTPS://…" is https too): cookies are Secure exactly then.
func IsHTTPS(rawURL string) bool {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	return err == nil && u.Scheme == "https"
}
