// Package payload normalizes what Referral Factory sends (a JSON object, a
// form-encoded body or a query string, with keys the customer may rename and
// custom fields nested under meta) into a flat, ordered list of field paths
// and string values, the vocabulary mappings are written in.
package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Field is one value of a payload at a dotted path such as "meta.Company".
type Field struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

// Payload is a normalized signup: fields in the order they were received.
type Payload struct {
	Fields []Field `json:"fields"`
	index  map[string]int
}

// Kind is what is wrong with a payload that cannot be accepted. How a
// kind is answered (its HTTP status) is decided in app/apperr, not here.
type Kind int

// Kinds of refused payloads.
const (
	// Malformed: the body cannot be read as what it claims to be (invalid
	// JSON or UTF-8, a malformed form, nesting too deep).
	Malformed Kind = iota + 1
	// Unprocessable: well-formed, but not a signup refhub can keep (no
	// data, duplicate or over-long names, too many fields).
	Unprocessable
	// Unsupported: a content type refhub does not read.
	Unsupported
	// TooLarge: the normalized fields are larger than the body allows.
	TooLarge
)

// Error is a payload that cannot be accepted. Msg quotes at most a short
// part of the input.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func bad(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// envelopes are wrapper keys under which some senders nest the user object;
// a path under them also matches without the prefix ("data.email" for
// "email") when the payload has no such top-level field.
var envelopes = []string{"data.", "user.", "payload.", "body.", "object.", "record.", "attributes.", "event."}

// New returns a payload of fields (used when loading a stored payload).
func New(fields []Field) *Payload {
	p := &Payload{Fields: fields}
	p.reindex()
	return p
}

func (p *Payload) reindex() {
	p.index = make(map[string]int, len(p.Fields))
	for i, f := range p.Fields {
		if _, dup := p.index[normPath(f.Path)]; !dup {
			p.index[normPath(f.Path)] = i
		}
	}
}

// normPath is how paths compare: case-insensitively and without surrounding
// spaces, on both the stored and the asked side, so that a field whose name
// was sent with a stray space is still found by its own path.
func normPath(path string) string { return strings.ToLower(strings.TrimSpace(path)) }

// Get returns the value at path, compared case-insensitively. Paths under a
// well-known envelope also match without it, and a path written in another
// style (firstName, First Name, first-name for first_name) matches when
// exactly one field does.
func (p *Payload) Get(path string) (string, bool) {
	if p.index == nil {
		p.reindex()
	}
	key := normPath(path)
	if i, ok := p.index[key]; ok {
		return p.Fields[i].Value, true
	}
	key = stripEnvelopes(key)
	for _, f := range p.Fields {
		if stripEnvelopes(normPath(f.Path)) == key {
			return f.Value, true
		}
	}
	return p.getLoose(key)
}

// getLoose matches key against the fields with separators and case
// ignored in each path segment, if exactly one field matches.
func (p *Payload) getLoose(key string) (string, bool) {
	want := loose(key)
	found, value := 0, ""
	for _, f := range p.Fields {
		if loose(stripEnvelopes(normPath(f.Path))) == want {
			found, value = found+1, f.Value
		}
	}
	return value, found == 1
}

// loose drops '_', '-' and spaces from each dot-separated segment.
func loose(path string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == ' ' {
			return -1
		}
		return r
	}, path)
}

func stripEnvelopes(path string) string {
	for changed := true; changed; {
		changed = false
		for _, env := range envelopes {
			if strings.HasPrefix(path, env) {
				// An envelope holding a one-element list: data.0.email.
				path, changed = strings.TrimPrefix(path[len(env):], "0."), true
			}
		}
	}
	return path
}

// Paths returns every field path, in order.
func (p *Payload) Paths() []string {
	out := make([]string, len(p.Fields))
	for i, f := range p.Fields {
		out[i] = f.Path
	}
	return out
}

// Parse normalizes a request: the body by its content type, or the query
// string when the body is empty (Referral Factory can send GET requests).
func Parse(contentType string, body []byte, query url.Values) (*Payload, error) {
	if !utf8.Valid(body) {
		return nil, bad(Malformed, "the body is not valid UTF-8")
	}
	mediaType := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		if len(query) == 0 {
			return nil, bad(Unprocessable, "the request has no signup data: send a JSON object, form fields or query parameters")
		}
		return fromValues(query, querySize(query))
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		if trimmed[0] != '{' && trimmed[0] != '[' && looksLikeForm(trimmed) {
			return fromForm(trimmed) // form fields sent under a JSON content type
		}
		return FromJSON(trimmed)
	case mediaType == "application/x-www-form-urlencoded":
		if trimmed[0] == '{' {
			return FromJSON(trimmed) // a JSON body sent under a form content type
		}
		return fromForm(trimmed)
	case mediaType == "" || mediaType == "text/plain":
		if trimmed[0] == '{' { // some senders omit the content type on JSON
			return FromJSON(trimmed)
		}
		if looksLikeForm(trimmed) {
			return fromForm(trimmed)
		}
	}
	return nil, bad(Unsupported, "unsupported content type %s: send application/json or application/x-www-form-urlencoded", Quote(mediaType))
}

// FromJSON flattens a JSON object. Duplicate keys, nesting deeper than
// MaxDepth, more than MaxFields values, names longer than MaxKey, paths
// longer than MaxPath and a result larger than SizeLimit are refused.
func FromJSON(body []byte) (*Payload, error) {
	if fields, ok := fastJSON(body); ok {
		return finish(fields, len(body))
	}
	return decodeJSON(body)
}

// decodeJSON flattens a JSON object token by token: the reference
// behaviour, and the path that explains what is wrong with a body.
func decodeJSON(body []byte) (*Payload, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, bad(Malformed, "the body is not valid JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, bad(Malformed, "the body must be a JSON object with the signup's fields")
	}
	f := &flattener{dec: dec}
	if err := f.object("", 1); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bad(Malformed, "the body has data after the JSON object")
	}
	return finish(f.fields, len(body))
}

type flattener struct {
	dec    *json.Decoder
	fields []Field
}

func (f *flattener) object(prefix string, depth int) error {
	if depth > MaxDepth {
		return bad(Malformed, "the JSON is nested more than %d levels deep", MaxDepth)
	}
	seen := map[string]bool{}
	for f.dec.More() {
		tok, err := f.dec.Token()
		if err != nil {
			return bad(Malformed, "the body is not valid JSON: %v", err)
		}
		key := tok.(string)
		if err := checkName(prefix, key); err != nil {
			return err
		}
		if seen[key] {
			return bad(Unprocessable, "the key %s appears more than once", Quote(prefix+key))
		}
		seen[key] = true
		if err := f.value(prefix+key, depth); err != nil {
			return err
		}
	}
	if _, err := f.dec.Token(); err != nil { // closing }
		return bad(Malformed, "the body is not valid JSON: %v", err)
	}
	return nil
}

func (f *flattener) value(path string, depth int) error {
	tok, err := f.dec.Token()
	if err != nil {
		return bad(Malformed, "the body is not valid JSON: %v", err)
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return f.object(path+".", depth+1)
		}
		return f.array(path, depth+1)
	case nil:
		return nil // null: no value
	case string:
		return f.add(path, v)
	case json.Number:
		return f.add(path, v.String())
	case bool:
		return f.add(path, strconv.FormatBool(v))
	}
	return nil
}

func (f *flattener) array(path string, depth int) error {
	if depth > MaxDepth {
		return bad(Malformed, "the JSON is nested more than %d levels deep", MaxDepth)
	}
	for i := 0; f.dec.More(); i++ {
		elem := path + "." + strconv.Itoa(i)
		if len(elem) > MaxPath {
			return pathTooLong(elem)
		}
		if err := f.value(elem, depth); err != nil {
			return err
		}
	}
	if _, err := f.dec.Token(); err != nil { // closing ]
		return bad(Malformed, "the body is not valid JSON: %v", err)
	}
	return nil
}

// checkName refuses an object key longer than MaxKey, or one that makes
// a path longer than MaxPath under prefix.
func checkName(prefix, key string) error {
	if len(key) > MaxKey {
		return bad(Unprocessable, "the field name %s is longer than %d bytes", Quote(key), MaxKey)
	}
	if len(prefix)+len(key) > MaxPath {
		return pathTooLong(prefix + key)
	}
	return nil
}

func pathTooLong(path string) error {
	return bad(Unprocessable, "the field path %s is longer than %d bytes", Quote(path), MaxPath)
}

func (f *flattener) add(path, value string) error {
	if len(f.fields) >= MaxFields {
		return bad(Unprocessable, "the payload has more than %d fields", MaxFields)
	}
	f.fields = append(f.fields, Field{Path: path, Value: value})
	return nil
}

// finish checks values, then adds "meta.<field>" aliases for Referral
// Factory's custom fields sent as a list of {field, value} pairs, and
// refuses a result larger than SizeLimit(n) for an input of n bytes.
func finish(fields []Field, n int) (*Payload, error) {
	for i, f := range fields {
		f.Path = strings.ReplaceAll(f.Path, "\x00", "")
		if f.Path == "" {
			return nil, bad(Unprocessable, "the payload has a field with an empty name")
		}
		// HubSpot's limit counts characters, not bytes.
		if len(f.Value) > MaxValue && utf8.RuneCountInString(f.Value) > MaxValue {
			return nil, bad(Unprocessable, "the field %s is longer than %d characters", Quote(f.Path), MaxValue)
		}
		fields[i] = Field{Path: f.Path, Value: strings.ReplaceAll(f.Value, "\x00", "")}
	}
	fields = append(fields, pairAliases(fields)...)
	if size, limit := SizeOf(fields), SizeLimit(n); size > limit {
		return nil, bad(TooLarge, "the signup's fields take %d bytes once normalized, more than the %d allowed for a body of %d bytes "+
			"(%d × the body + %d KiB, at most %d MiB)", size, limit, n, sizeFactor, sizeSlack>>10, MaxSize>>20)
	}
	p := &Payload{Fields: fields}
	p.reindex()
	return p, nil
}

// pairAliases turns list entries like meta.0.field=Company, meta.0.value=X
// into meta.Company=X.
func pairAliases(fields []Field) []Field {
	type entry struct{ name, value string }
	groups := map[string]*entry{}
	var order []string
	for _, f := range fields {
		i := strings.LastIndex(f.Path, ".")
		if i < 0 {
			continue
		}
		prefix, leaf := f.Path[:i], strings.ToLower(f.Path[i+1:])
		j := strings.LastIndex(prefix, ".")
		if j < 0 {
			continue
		}
		if _, err := strconv.Atoi(prefix[j+1:]); err != nil {
			continue
		}
		g, ok := groups[prefix]
		if !ok {
			g = &entry{}
			groups[prefix] = g
			order = append(order, prefix)
		}
		switch leaf {
		case "field", "name", "label", "key":
			if g.name == "" {
				g.name = f.Value
			}
		case "value":
			g.value = f.Value
		}
	}
	var out []Field
	for _, prefix := range order {
		g := groups[prefix]
		if g.name == "" {
			continue
		}
		list := prefix[:strings.LastIndex(prefix, ".")]
		if len(list)+1+len(g.name) > MaxPath {
			continue // the pair stays readable by its own paths
		}
		out = append(out, Field{Path: list + "." + g.name, Value: g.value})
	}
	return out
}
