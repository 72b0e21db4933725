package payload

import (
	"fmt"
	"unicode/utf8"
)

// Limits on what a payload may contain. A body is at most 1 MiB (the
// webhook refuses more), but flattening copies every parent key into each
// child's path, so a small body with a long key over a long list would
// become hundreds of megabytes; names, paths and the whole normalized
// payload are therefore bounded too.
const (
	MaxDepth  = 16
	MaxFields = 500
	MaxValue  = 65536 // HubSpot's limit for a string property, in characters
	MaxKey    = 256   // bytes of one field name (a JSON key, a form key's segment)
	MaxPath   = 512   // bytes of a dotted path such as "data.meta.Company"
	// MaxSize is a hard cap on a payload's stored size (Size), whatever
	// the body.
	MaxSize = 2 << 20
	// sizeSlack is what any body may grow by on top of sizeFactor times
	// itself: paths and per-field overhead of a payload with small values.
	sizeSlack  = 64 << 10
	sizeFactor = 3
)

// SizeLimit is the largest stored size (Size) a payload parsed from n
// bytes of input may have: a small multiple of the input plus a constant,
// and never more than MaxSize. Values are at most the input's size (once
// more for the aliases of custom-field pairs); what a legitimate payload
// adds — paths and per-field overhead — fits in the constant.
func SizeLimit(n int) int { return min(sizeFactor*n+sizeSlack, MaxSize) }

// fieldOverhead is what one field adds to its path and value when stored:
// {"path":,"value":}, and a comma.
const fieldOverhead = len(`{"path":,"value":},`)

// Size is the number of bytes the payload's fields take when stored as
// JSON without HTML escaping (as the queue stores events), within a few
// bytes: what an event record holds beyond its fixed fields.
func (p *Payload) Size() int { return SizeOf(p.Fields) }

// SizeOf is the Size of a payload of fields.
func SizeOf(fields []Field) int {
	n := 2 // [ ]
	for _, f := range fields {
		n += fieldOverhead + storedLen(f.Path) + storedLen(f.Value)
	}
	return n
}

// storedLen is the length of s as encoding/json writes it without HTML
// escaping, quotes included: quotes, backslashes and common control
// characters take two bytes, other control characters six, and U+2028
// and U+2029 six instead of three. s is valid UTF-8 (Parse guarantees
// it).
func storedLen(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
			n++
		case c < 0x20:
			n += 5
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2]&^1 == 0xA8:
			n += 3
		}
	}
	return n
}

// quoteLen bounds how much of a name a message quotes.
const quoteLen = 64

// Quote quotes a name (a key, a path) for a message, cut to its first 64
// bytes: a message names what is wrong without repeating the input.
func Quote(s string) string {
	if len(s) <= quoteLen {
		return fmt.Sprintf("%q", s)
	}
	cut := quoteLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q", s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
}
