package hubspot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Reasons a webhook request is refused; VerifyWebhookV3 wraps one of them.
var (
	// ErrWebhookUnsigned: the signature or timestamp header is missing.
	ErrWebhookUnsigned = errors.New("hubspot webhook: not signed")
	// ErrWebhookStale: the timestamp is more than WebhookMaxAge from now
	// (either way) or is not a timestamp.
	ErrWebhookStale = errors.New("hubspot webhook: stale timestamp")
	// ErrWebhookBadSignature: the signature does not match.
	ErrWebhookBadSignature = errors.New("hubspot webhook: bad signature")
)

// WebhookMaxAge is how old (or how far ahead) a signed request may be:
// HubSpot tells receivers to refuse timestamps older than five minutes, and
// a timestamp from the future would only stretch the window for a replay.
const WebhookMaxAge = 5 * time.Minute

// Header names of HubSpot's v3 request signature.
const (
	HeaderSignatureV3      = "X-HubSpot-Signature-v3"
	HeaderRequestTimestamp = "X-HubSpot-Request-Timestamp"
)

// VerifyWebhookV3 checks HubSpot's v3 signature of a request: signature is
// base64(HMAC-SHA256(clientSecret, method + uri + body + timestamp)), where
// uri is the full URL HubSpot called (scheme, host, path and query, as
// configured in the app, not as a proxy rewrote it) and body the raw bytes.
// timestamp (epoch milliseconds) must be within WebhookMaxAge of now. The
// comparison is constant-time. The error wraps ErrWebhookUnsigned,
// ErrWebhookStale or ErrWebhookBadSignature.
func VerifyWebhookV3(clientSecret, method, uri string, body []byte, timestamp, signature string, now time.Time) error {
	if clientSecret == "" {
		return errors.New("hubspot webhook: no client secret to verify with")
	}
	if signature == "" || timestamp == "" {
		return ErrWebhookUnsigned
	}
	ms, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not epoch milliseconds", ErrWebhookStale, timestamp)
	}
	age := now.Sub(time.UnixMilli(ms))
	if age > WebhookMaxAge || age < -WebhookMaxAge {
		return fmt.Errorf("%w: signed %s from now", ErrWebhookStale, age.Round(time.Second))
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("%w: not base64", ErrWebhookBadSignature)
	}
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte(method))
	mac.Write([]byte(decodeSignedURI(uri)))
	mac.Write(body)
	mac.Write([]byte(timestamp))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrWebhookBadSignature
	}
	return nil
}

// signedURIEscapes are the percent-escapes HubSpot's request-validation
// guide says to decode in the URI before hashing; other escapes stay.
var signedURIEscapes = map[string]string{
	"3A": ":", "2F": "/", "3F": "?", "40": "@", "21": "!", "24": "$",
	"27": "'", "28": "(", "29": ")", "2A": "*", "2C": ",", "3B": ";",
}

func decodeSignedURI(uri string) string {
	if !strings.Contains(uri, "%") {
		return uri
	}
	var b strings.Builder
	for i := 0; i < len(uri); i++ {
		if uri[i] == '%' && i+2 < len(uri) {
			if dec, ok := signedURIEscapes[strings.ToUpper(uri[i+1:i+3])]; ok {
				b.WriteString(dec)
				i += 2
				continue
			}
		}
		b.WriteByte(uri[i])
	}
	return b.String()
}
