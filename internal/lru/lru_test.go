package lru_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/refhub/refhub/internal/lru"
)

// TestLRUDropsTheLeastRecentlyUsed: a full map drops the entry used least
// recently, one at a time.
func TestLRUDropsTheLeastRecentlyUsed(t *testing.T) {
	l := lru.New[int](3)
	l.Put("a", 1)
	l.Put("b", 2)
	l.Put("c", 3)
	_, _ = l.Get("a") // a is used again: b is now the oldest
	l.Put("d", 4)
	_, ok := l.Get("b")
	assert.False(t, ok, "b was dropped")
	for _, k := range []string{"a", "c", "d"} {
		_, ok := l.Get(k)
		assert.True(t, ok, k)
	}
	l.Put("a", 10)
	v, _ := l.Get("a")
	assert.Equal(t, 10, v)
	l.Remove("a")
	_, ok = l.Get("a")
	assert.False(t, ok)
	assert.Equal(t, 2, l.Len())
}
