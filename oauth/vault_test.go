package oauth_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/oauth"
)

// keyB64 returns a deterministic 32-byte key, base64-encoded.
func keyB64(b byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string([]byte{b}), 32)))
}

func newVault(t *testing.T, spec string) *oauth.Vault {
	t.Helper()
	v, err := oauth.NewVault(spec)
	require.NoError(t, err)
	return v
}

func TestVaultRoundTrip(t *testing.T) {
	v := newVault(t, "k1:"+keyB64(1))
	assert.Equal(t, "k1", v.PrimaryKeyID())

	sealed, err := v.SealString("na1-refresh-token", "portal:42:refresh")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(sealed, "v1.k1."), sealed)
	assert.Equal(t, "k1", oauth.KeyID(sealed))
	assert.NotContains(t, sealed, "na1-refresh-token")

	got, err := v.OpenString(sealed, "portal:42:refresh")
	require.NoError(t, err)
	assert.Equal(t, "na1-refresh-token", got)

	again, err := v.SealString("na1-refresh-token", "portal:42:refresh")
	require.NoError(t, err)
	assert.NotEqual(t, sealed, again, "every seal uses a fresh nonce")

	empty, err := v.Seal(nil, "aad")
	require.NoError(t, err)
	pt, err := v.Open(empty, "aad")
	require.NoError(t, err)
	assert.Empty(t, pt)
}

func TestVaultOpenFailures(t *testing.T) {
	v := newVault(t, "k1:"+keyB64(1))
	sealed, err := v.SealString("secret", "portal:1:refresh")
	require.NoError(t, err)
	body := strings.TrimPrefix(sealed, "v1.k1.")
	raw, err := base64.RawURLEncoding.DecodeString(body)
	require.NoError(t, err)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		return "v1.k1." + base64.RawURLEncoding.EncodeToString(b)
	}

	tests := []struct {
		name    string
		vault   *oauth.Vault
		sealed  string
		aad     string
		message string
	}{
		{name: "wrong aad", vault: v, sealed: sealed, aad: "portal:2:refresh"},
		{name: "wrong key under the same id", vault: newVault(t, "k1:"+keyB64(2)), sealed: sealed, aad: "portal:1:refresh"},
		{name: "unknown key id", vault: newVault(t, "k9:"+keyB64(1)), sealed: sealed, aad: "portal:1:refresh", message: `key "k1" is not configured`},
		{name: "tampered nonce", vault: v, sealed: flip(0), aad: "portal:1:refresh"},
		{name: "tampered ciphertext", vault: v, sealed: flip(len(raw) / 2), aad: "portal:1:refresh"},
		{name: "tampered tag", vault: v, sealed: flip(len(raw) - 1), aad: "portal:1:refresh"},
		{name: "truncated", vault: v, sealed: sealed[:len(sealed)-4], aad: "portal:1:refresh"},
		{name: "shorter than a nonce", vault: v, sealed: "v1.k1.AAAA", aad: "portal:1:refresh"},
		{name: "not base64", vault: v, sealed: "v1.k1.***", aad: "portal:1:refresh"},
		{name: "no prefix", vault: v, sealed: strings.TrimPrefix(sealed, "v1."), aad: "portal:1:refresh"},
		{name: "other version", vault: v, sealed: "v2." + strings.TrimPrefix(sealed, "v1."), aad: "portal:1:refresh"},
		{name: "no key id", vault: v, sealed: "v1." + body, aad: "portal:1:refresh"},
		{name: "plain text", vault: v, sealed: "secret", aad: "portal:1:refresh"},
		{name: "empty", vault: v, sealed: "", aad: "portal:1:refresh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := tc.vault.OpenString(tc.sealed, tc.aad)
			assert.ErrorIs(t, err, oauth.ErrDecrypt)
			assert.Empty(t, pt)
			if tc.message != "" {
				assert.Contains(t, err.Error(), tc.message)
			}
		})
	}
}

func TestVaultRotation(t *testing.T) {
	k1 := "k1:" + keyB64(1)
	k2 := "k2:" + keyB64(2)
	old := newVault(t, k1)
	sealedOld, err := old.SealString("token-under-k1", "aad")
	require.NoError(t, err)

	rotated := newVault(t, k2+", "+k1)
	assert.Equal(t, "k2", rotated.PrimaryKeyID(), "the first key is primary")
	got, err := rotated.OpenString(sealedOld, "aad")
	require.NoError(t, err, "values sealed under the old key still open")
	assert.Equal(t, "token-under-k1", got)

	sealedNew, err := rotated.SealString("token-under-k2", "aad")
	require.NoError(t, err)
	assert.Equal(t, "k2", oauth.KeyID(sealedNew), "new seals use the primary key")

	_, err = old.OpenString(sealedNew, "aad")
	assert.ErrorIs(t, err, oauth.ErrDecrypt, "a process that only knows k1 cannot open k2 values")

	retired := newVault(t, k2)
	_, err = retired.OpenString(sealedOld, "aad")
	assert.ErrorIs(t, err, oauth.ErrDecrypt, "once k1 is removed its values no longer open")
}

func TestVaultKeyEncodings(t *testing.T) {
	key := []byte(strings.Repeat("\xfb", 32)) // encodes with + and / (or - and _)
	for name, enc := range map[string]*base64.Encoding{
		"std": base64.StdEncoding, "raw std": base64.RawStdEncoding,
		"url": base64.URLEncoding, "raw url": base64.RawURLEncoding,
	} {
		t.Run(name, func(t *testing.T) {
			v := newVault(t, "k1:"+enc.EncodeToString(key))
			ref := newVault(t, "k1:"+base64.StdEncoding.EncodeToString(key))
			sealed, err := ref.SealString("x", "a")
			require.NoError(t, err)
			got, err := v.OpenString(sealed, "a")
			require.NoError(t, err, "the same key in another base64 alphabet is the same key")
			assert.Equal(t, "x", got)
		})
	}
}

func TestVaultMalformedSpecs(t *testing.T) {
	secretKey := keyB64(7)
	short := base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!"))
	long := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("L", 48)))
	tests := []struct {
		name, spec, want string
	}{
		{name: "empty", spec: "", want: "no key given"},
		{name: "only commas", spec: " , ,", want: "no key given"},
		{name: "key without id", spec: secretKey, want: "key 1: want id:base64key"},
		{name: "empty id", spec: ":" + secretKey, want: "key 1: want id:base64key"},
		{name: "id with a dot", spec: "k.1:" + secretKey, want: "key 1: want id:base64key"},
		{name: "id with a space", spec: "k 1:" + secretKey, want: "key 1: want id:base64key"},
		{name: "key and id swapped", spec: secretKey + ":k1", want: "key 1: want id:base64key"},
		{name: "second entry bad", spec: "k1:" + keyB64(1) + "," + secretKey, want: "key 2: want id:base64key"},
		{name: "not base64", spec: "k1:not*base64", want: `key "k1": want 32 bytes, base64-encoded`},
		{name: "16-byte key", spec: "k1:" + short, want: `key "k1": want 32 bytes`},
		{name: "48-byte key", spec: "k1:" + long, want: `key "k1": want 32 bytes`},
		{name: "duplicate id", spec: "k1:" + secretKey + ",k1:" + keyB64(8), want: `key id "k1" appears twice`},
		{name: "id of 33 characters", spec: strings.Repeat("k", 33) + ":" + secretKey, want: "key 1: want id:base64key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := oauth.NewVault(tc.spec)
			require.Error(t, err)
			assert.Nil(t, v)
			assert.Contains(t, err.Error(), tc.want)
			for _, material := range []string{secretKey, strings.TrimRight(secretKey, "="), short, long, keyB64(8)} {
				assert.NotContains(t, err.Error(), material, "the error must not echo key material")
			}
			assert.False(t, errors.Is(err, oauth.ErrDecrypt))
		})
	}
}

func TestVaultKeyIDOf32Characters(t *testing.T) {
	id := strings.Repeat("k", 32)
	v := newVault(t, id+":"+keyB64(1))
	assert.Equal(t, id, v.PrimaryKeyID(), "the longest id allowed")
}

func TestGenerateKeySpec(t *testing.T) {
	spec := oauth.GenerateKeySpec("2026a")
	assert.True(t, strings.HasPrefix(spec, "2026a:"))
	v := newVault(t, spec)
	assert.Equal(t, "2026a", v.PrimaryKeyID())
	assert.NotEqual(t, spec, oauth.GenerateKeySpec("2026a"))
}
