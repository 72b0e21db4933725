package payload

import (
	"bytes"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Form bodies and query strings: key=value pairs, with bracketed keys
// ("meta[Company]") for nested fields.

func fromForm(body []byte) (*Payload, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, bad(Malformed, "the form body is malformed: %v", err)
	}
	return fromValues(vals, len(body))
}

// querySize is the size of a query string's names and values: the input a
// payload read from the query is bounded by.
func querySize(query url.Values) int {
	n := 0
	for k, vs := range query {
		for _, v := range vs {
			n += len(k) + len(v) + 2
		}
	}
	return n
}

// looksLikeForm reports whether body reads as key=value pairs.
func looksLikeForm(body []byte) bool {
	vals, err := url.ParseQuery(string(body))
	if err != nil || len(vals) == 0 {
		return false
	}
	for k := range vals {
		if k == "" || strings.ContainsAny(k, "{}\"\n ") {
			return false
		}
	}
	return bytes.IndexByte(body, '=') > 0
}

var bracket = regexp.MustCompile(`\[([^\]]*)\]`)

// fromValues flattens form or query values (n bytes of them);
// "meta[Company]" becomes "meta.Company". A key given twice is refused:
// which one is meant is a guess.
func fromValues(vals url.Values, n int) (*Payload, error) {
	var fields []Field
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := vals[k]
		if !utf8.ValidString(k) || !utf8.ValidString(strings.Join(vs, "")) {
			return nil, bad(Malformed, "the field %s is not valid UTF-8 once percent-decoded", Quote(strings.ToValidUTF8(k, "\uFFFD")))
		}
		if len(k) > MaxPath {
			return nil, pathTooLong(k)
		}
		path := strings.TrimSuffix(bracket.ReplaceAllString(k, ".$1"), ".")
		if err := checkSegments(path); err != nil {
			return nil, err
		}
		if len(vs) > 1 {
			return nil, bad(Unprocessable, "the field %s appears %d times", Quote(path), len(vs))
		}
		if len(fields) >= MaxFields {
			return nil, bad(Unprocessable, "the payload has more than %d fields", MaxFields)
		}
		fields = append(fields, Field{Path: path, Value: vs[0]})
	}
	return finish(fields, n)
}

// checkSegments refuses a form path with a name longer than MaxKey.
func checkSegments(path string) error {
	for rest := path; rest != ""; {
		seg, after, _ := strings.Cut(rest, ".")
		if len(seg) > MaxKey {
			return bad(Unprocessable, "the field name %s is longer than %d bytes", Quote(seg), MaxKey)
		}
		rest = after
	}
	return nil
}
