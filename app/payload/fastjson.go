package payload

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// fastJSON flattens a JSON object in one pass over the bytes, without the
// token-by-token decoder (which allocates for every token and was the
// largest cost of a webhook request). It accepts only what the decoder
// accepts and returns the same fields: a well-formed object within
// MaxDepth, MaxFields, MaxKey and MaxPath and without repeated keys. For
// anything else it reports false, and FromJSON decodes the body token by
// token, which gives the same fields or the precise error.
func fastJSON(body []byte) ([]Field, bool) {
	s := &scanner{b: body}
	s.space()
	if !s.eat('{') || !s.object("", 1) {
		return nil, false
	}
	s.space()
	return s.fields, s.i == len(s.b)
}

// scanner walks a JSON text.
type scanner struct {
	b      []byte
	i      int
	fields []Field
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object reads the members of an object whose '{' was read.
func (s *scanner) object(prefix string, depth int) bool {
	if depth > MaxDepth {
		return false
	}
	s.space()
	if s.eat('}') {
		return true
	}
	var seen keySet
	for {
		s.space()
		key, ok := s.str()
		if !ok || len(key) > MaxKey || len(prefix)+len(key) > MaxPath || !seen.add(key) {
			return false
		}
		s.space()
		if !s.eat(':') || !s.value(prefix+key, depth) {
			return false
		}
		s.space()
		if !s.eat(',') {
			return s.eat('}')
		}
	}
}

// array reads the elements of an array whose '[' was read.
func (s *scanner) array(path string, depth int) bool {
	if depth > MaxDepth {
		return false
	}
	s.space()
	if s.eat(']') {
		return true
	}
	for i := 0; ; i++ {
		elem := path + "." + strconv.Itoa(i)
		if len(elem) > MaxPath || !s.value(elem, depth) {
			return false
		}
		s.space()
		if !s.eat(',') {
			return s.eat(']')
		}
	}
}

func (s *scanner) value(path string, depth int) bool {
	s.space()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; c {
	case '{':
		s.i++
		return s.object(path+".", depth+1)
	case '[':
		s.i++
		return s.array(path, depth+1)
	case '"':
		v, ok := s.str()
		return ok && s.add(path, v)
	case 't':
		return s.literal("true") && s.add(path, "true")
	case 'f':
		return s.literal("false") && s.add(path, "false")
	case 'n':
		return s.literal("null") // null: no value
	}
	n, ok := s.number()
	return ok && s.add(path, n)
}

func (s *scanner) add(path, value string) bool {
	if len(s.fields) >= MaxFields {
		return false
	}
	s.fields = append(s.fields, Field{Path: path, Value: value})
	return true
}

func (s *scanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return true
}

// str reads a string. One with escapes or invalid UTF-8 is decoded by
// encoding/json itself, so that escapes, surrogates and replacement
// characters come out exactly as the decoder makes them.
func (s *scanner) str() (string, bool) {
	start := s.i
	if !s.eat('"') {
		return "", false
	}
	plain := true
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			raw := s.b[start+1 : s.i-1]
			if plain && utf8.Valid(raw) {
				return string(raw), true
			}
			var v string
			if json.Unmarshal(s.b[start:s.i], &v) != nil {
				return "", false
			}
			return v, true
		case c == '\\':
			plain = false
			s.i += 2
		case c < 0x20:
			return "", false
		default:
			s.i++
		}
	}
	return "", false
}

// number reads a number by JSON's grammar; its text is the value, as the
// decoder's json.Number keeps it.
func (s *scanner) number() (string, bool) {
	start := s.i
	s.eat('-')
	switch {
	case s.eat('0'):
	case s.digits() == 0:
		return "", false
	}
	if s.eat('.') && s.digits() == 0 {
		return "", false
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if s.digits() == 0 {
			return "", false
		}
	}
	return string(s.b[start:s.i]), true
}

// digits skips decimal digits and returns how many.
func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// keySet holds an object's keys: a slice while small, a map beyond, so a
// body with very many keys costs linear time.
type keySet struct {
	list []string
	m    map[string]bool
}

// add records key and reports whether it was new.
func (k *keySet) add(key string) bool {
	if k.m != nil {
		if k.m[key] {
			return false
		}
		k.m[key] = true
		return true
	}
	for _, o := range k.list {
		if o == key {
			return false
		}
	}
	k.list = append(k.list, key)
	if len(k.list) > 16 {
		k.m = make(map[string]bool, 2*len(k.list))
		for _, o := range k.list {
			k.m[o] = true
		}
	}
	return true
}
