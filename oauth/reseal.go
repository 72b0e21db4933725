package oauth

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Reseal re-encrypts a portal's stored tokens (its access token and every
// grant's refresh token) with the vault's primary key if they were sealed
// with another one. It reports whether it rewrote any.
func (t *Tokens) Reseal(ctx context.Context, hubID int64) (bool, error) {
	if err := t.migrate(ctx, hubID); err != nil {
		return false, err
	}
	primary := t.vault.PrimaryKeyID()
	done := false
	access, err := t.rdb.HGet(ctx, tokensKey(hubID), "access").Result()
	if err != nil && err != redis.Nil {
		return false, err
	}
	if access != "" && KeyID(access) != primary {
		newAccess, err := t.reseal(access, accessAAD(hubID))
		if err != nil {
			return false, fmt.Errorf("portal %d: access token: %w", hubID, err)
		}
		// Written only if no refresh stored a new token meanwhile.
		n, err := replaceFieldScript.Run(ctx, t.rdb, []string{tokensKey(hubID)}, "access", access, newAccess).Int()
		if err != nil {
			return false, err
		}
		done = n == 1
	}
	raw, err := t.rdb.HGetAll(ctx, grantsKey(hubID)).Result()
	if err != nil {
		return done, err
	}
	for field, v := range raw {
		var g grantRecord
		if err := json.Unmarshal([]byte(v), &g); err != nil {
			return done, err
		}
		if KeyID(g.Refresh) == primary {
			continue
		}
		if g.Refresh, err = t.reseal(g.Refresh, grantAAD(hubID, g.UserID)); err != nil {
			return done, fmt.Errorf("portal %d: refresh token of user %d: %w", hubID, g.UserID, err)
		}
		enc, err := json.Marshal(g)
		if err != nil {
			return done, err
		}
		n, err := replaceFieldScript.Run(ctx, t.rdb, []string{grantsKey(hubID)}, field, v, string(enc)).Int()
		if err != nil {
			return done, err
		}
		done = done || n == 1
	}
	return done, nil
}

// replaceFieldScript replaces a hash field only if it still holds what was
// read (a reseal, a grant marked failed).
// KEYS: the hash. ARGV: field, old value, new value.
var replaceFieldScript = redis.NewScript(`
if (redis.call('HGET', KEYS[1], ARGV[1]) or '') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`)

func (t *Tokens) reseal(sealed, aad string) (string, error) {
	plain, err := t.vault.Open(sealed, aad)
	if err != nil {
		return "", err
	}
	return t.vault.Seal(plain, aad)
}
