package oauth

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/refhub/refhub/internal/redisscan"
)

// tokensPattern matches every key tokensKey makes.
const tokensPattern = "{p:*}:oauth"

// ResealAll re-encrypts every portal's stored tokens with the vault's
// primary key (see Reseal) and returns how many it rewrote. It walks this
// package's own keys, tokensKey's.
func (t *Tokens) ResealAll(ctx context.Context) (int, error) {
	var n atomic.Int64
	err := redisscan.Each(ctx, t.rdb, tokensPattern, func(key string) error {
		hub, ok := hubOfTokensKey(key)
		if !ok {
			return nil
		}
		done, err := t.Reseal(ctx, hub)
		if done {
			n.Add(1)
		}
		return err
	})
	return int(n.Load()), err
}

// hubOfTokensKey reads the portal of a key tokensKey made; a key that only
// looks like one is not.
func hubOfTokensKey(key string) (int64, bool) {
	id, _ := strings.CutSuffix(strings.TrimPrefix(key, "{p:"), "}:oauth")
	hub, err := strconv.ParseInt(id, 10, 64)
	if err != nil || tokensKey(hub) != key {
		return 0, false
	}
	return hub, true
}
