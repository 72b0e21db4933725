package oauth

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Reseal re-encrypts a portal's stored tokens with the vault's primary key
// if they were sealed with another one. It reports whether it rewrote them.
func (t *Tokens) Reseal(ctx context.Context, hubID int64) (bool, error) {
	vals, err := t.rdb.HMGet(ctx, tokensKey(hubID), "refresh", "access").Result()
	if err != nil {
		return false, err
	}
	refresh, _ := vals[0].(string)
	access, _ := vals[1].(string)
	primary := t.vault.PrimaryKeyID()
	if refresh == "" || (KeyID(refresh) == primary && (access == "" || KeyID(access) == primary)) {
		return false, nil
	}
	newRefresh, err := t.reseal(refresh, refreshAAD(hubID))
	if err != nil {
		return false, fmt.Errorf("portal %d: refresh token: %w", hubID, err)
	}
	newAccess := ""
	if access != "" {
		if newAccess, err = t.reseal(access, accessAAD(hubID)); err != nil {
			return false, fmt.Errorf("portal %d: access token: %w", hubID, err)
		}
	}
	// Write only if no refresh stored new tokens meanwhile.
	n, err := resealScript.Run(ctx, t.rdb, []string{tokensKey(hubID)}, refresh, access, newRefresh, newAccess, primary).Int()
	return n == 1, err
}

var resealScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'refresh') ~= ARGV[1] then return 0 end
if (redis.call('HGET', KEYS[1], 'access') or '') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'refresh', ARGV[3], 'access', ARGV[4], 'key', ARGV[5])
return 1
`)

func (t *Tokens) reseal(sealed, aad string) (string, error) {
	plain, err := t.vault.Open(sealed, aad)
	if err != nil {
		return "", err
	}
	return t.vault.Seal(plain, aad)
}
