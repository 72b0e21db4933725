// Package lru is a bounded map that drops the entry used least recently:
// what refhub's in-memory caches and request limiters hold (sources,
// client addresses, backlog readings) stays within a fixed size whatever
// arrives, and a flood of new keys never resets the entries in use.
package lru

import "container/list"

// Map maps keys to values, at most max of them: when a new key arrives at
// a full map, the entry used least recently is dropped — one entry, never
// all of them. Not safe for concurrent use.
type Map[V any] struct {
	max   int
	byKey map[string]*list.Element
	order list.List // of *entry[V]; front: used last
}

type entry[V any] struct {
	key string
	val V
}

// New returns an empty map of at most max entries.
func New[V any](max int) *Map[V] { return &Map[V]{max: max, byKey: make(map[string]*list.Element)} }

// Get returns key's value and marks it used.
func (l *Map[V]) Get(key string) (V, bool) {
	e, ok := l.byKey[key]
	if !ok {
		var zero V
		return zero, false
	}
	l.order.MoveToFront(e)
	return e.Value.(*entry[V]).val, true
}

// Put sets key's value and marks it used, dropping the least recently used
// entry if the map is full.
func (l *Map[V]) Put(key string, v V) {
	if e, ok := l.byKey[key]; ok {
		e.Value.(*entry[V]).val = v
		l.order.MoveToFront(e)
		return
	}
	if l.order.Len() >= l.max {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.byKey, oldest.Value.(*entry[V]).key)
	}
	l.byKey[key] = l.order.PushFront(&entry[V]{key: key, val: v})
}

// Remove drops key.
func (l *Map[V]) Remove(key string) {
	if e, ok := l.byKey[key]; ok {
		l.order.Remove(e)
		delete(l.byKey, key)
	}
}

// Len is how many entries are held.
func (l *Map[V]) Len() int { return l.order.Len() }
