package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Vault encrypts secrets at rest (refresh and access tokens, webhook tokens)
// with AES-256-GCM. Each ciphertext names the key it was sealed with, so keys
// can rotate: Seal always uses the primary (first) key, Open accepts any
// configured key. The associated data binds a ciphertext to its owner (for
// tokens, the portal id): a ciphertext copied to another portal does not open.
type Vault struct {
	primary string
	keys    map[string]cipher.AEAD
}

// ErrDecrypt is returned when a ciphertext does not open: wrong key, wrong
// associated data, unknown key id or tampering.
var ErrDecrypt = errors.New("vault: cannot decrypt")

const sealedPrefix = "v1."

// NewVault parses REFHUB_ENCRYPTION_KEYS: comma-separated "id:base64key"
// entries, each key 32 bytes; the first is primary.
func NewVault(spec string) (*Vault, error) {
	v := &Vault{keys: map[string]cipher.AEAD{}}
	for n, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, b64, ok := strings.Cut(entry, ":")
		if !ok || !validKeyID(id) {
			// Named by position: what stands where the id should be may be
			// key material (an entry without id, or "key:id" swapped).
			return nil, fmt.Errorf("key %d: want id:base64key, with an id of 1 to %d characters without '.', ':' or spaces", n+1, maxKeyIDLen)
		}
		key, err := decodeKey(b64)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("key %q: want 32 bytes, base64-encoded (openssl rand -base64 32)", id)
		}
		if _, dup := v.keys[id]; dup {
			return nil, fmt.Errorf("key id %q appears twice", id)
		}
		block, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCM(block)
		v.keys[id] = aead
		if v.primary == "" {
			v.primary = id
		}
	}
	if v.primary == "" {
		return nil, errors.New("no key given: want id:base64key[,id:base64key...]")
	}
	return v, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// maxKeyIDLen keeps ids shorter than any base64-encoded 32-byte key, so a
// key pasted where the id belongs is refused instead of echoed.
const maxKeyIDLen = 32

func validKeyID(id string) bool {
	return id != "" && len(id) <= maxKeyIDLen && !strings.ContainsAny(id, ".: \t")
}

// GenerateKeySpec returns a fresh single-key REFHUB_ENCRYPTION_KEYS value.
func GenerateKeySpec(id string) string {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return id + ":" + base64.StdEncoding.EncodeToString(key)
}

// PrimaryKeyID returns the id of the key new ciphertexts use.
func (v *Vault) PrimaryKeyID() string { return v.primary }

// Seal encrypts plaintext bound to aad with the primary key.
func (v *Vault) Seal(plaintext []byte, aad string) (string, error) {
	aead := v.keys[v.primary]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("vault: nonce: %w", err)
	}
	ct := aead.Seal(nonce, nonce, plaintext, []byte(aad))
	return sealedPrefix + v.primary + "." + base64.RawURLEncoding.EncodeToString(ct), nil
}

// Open decrypts a ciphertext made by Seal with the same aad.
func (v *Vault) Open(sealed, aad string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return nil, ErrDecrypt
	}
	id, b64, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, ErrDecrypt
	}
	aead, ok := v.keys[id]
	if !ok {
		return nil, fmt.Errorf("%w: key %q is not configured", ErrDecrypt, id)
	}
	ct, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(ct) < aead.NonceSize() {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte(aad))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// KeyID returns the id of the key a ciphertext was sealed with.
func KeyID(sealed string) string {
	rest, _ := strings.CutPrefix(sealed, sealedPrefix)
	id, _, _ := strings.Cut(rest, ".")
	return id
}

// SealString and OpenString are Seal and Open for strings.
func (v *Vault) SealString(plaintext, aad string) (string, error) {
	return v.Seal([]byte(plaintext), aad)
}

// OpenString is Open returning a string.
func (v *Vault) OpenString(sealed, aad string) (string, error) {
	b, err := v.Open(sealed, aad)
	return string(b), err
}
