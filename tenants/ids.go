package tenants

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns a random id with a type prefix, e.g. "src_k3j2...": 80
// random bits, lowercase base32.
func NewID(prefix string) string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(b))
}

// NewSecret returns 256 random bits, base64url-encoded: webhook tokens,
// shared secrets, API tokens.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is the lookup key of a secret: hex SHA-256. Secrets are 256-bit
// random values, so a fast hash is enough to make the stored value useless.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
