package hubspot_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/refhub/refhub/hubspot"
)

// The expected signatures were computed by hand, independently of both the
// verifier and the simulator:
//
//	printf '%s' 'POSThttps://refhub.example.com/hooks/hubspot[{"eventId":1,"portalId":101}]1764576000000' |
//	  openssl dgst -sha256 -hmac 'test-client-secret' -binary | base64
//	→ /UAZQOnfRtdD1IGj88Ci2ST1HCYBFhHp+4Z/ZhwIMiw=
//
//	printf '%s' 'POSThttps://refhub.example.com/hooks/hubspot?src=a:b/c&x=%20y[]1764576000000' |
//	  openssl dgst -sha256 -hmac 'test-client-secret' -binary | base64
//	→ vP5TZY+EcDnW/sTQTnW/NhZfzASMgyGiBB0CYmOEWNI=   (%3A and %2F decoded, %20 kept)
//
//	the first line keyed with 'other-secret'
//	→ DU1zqf/tqq98/tb7OLu/xfQ6oed3tEYBXs2Ps67ScAY=
const (
	vecSecret = "test-client-secret"
	vecURI    = "https://refhub.example.com/hooks/hubspot"
	vecBody   = `[{"eventId":1,"portalId":101}]`
	vecTS     = "1764576000000" // 2025-12-01T08:00:00Z
	vecSig    = "/UAZQOnfRtdD1IGj88Ci2ST1HCYBFhHp+4Z/ZhwIMiw="
	vecQSig   = "vP5TZY+EcDnW/sTQTnW/NhZfzASMgyGiBB0CYmOEWNI="
	vecOther  = "DU1zqf/tqq98/tb7OLu/xfQ6oed3tEYBXs2Ps67ScAY="
)

func TestVerifyWebhookV3(t *testing.T) {
	signedAt := time.Date(2025, 12, 1, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		name                      string
		secret, method, uri, body string
		ts, sig                   string
		now                       time.Time
		want                      error
	}{
		{"valid", vecSecret, "POST", vecURI, vecBody, vecTS, vecSig, signedAt, nil},
		{"valid 5 minutes later", vecSecret, "POST", vecURI, vecBody, vecTS, vecSig, signedAt.Add(5 * time.Minute), nil},
		{"query with decoded escapes", vecSecret, "POST", vecURI + "?src=a%3Ab%2Fc&x=%20y", "[]", vecTS, vecQSig, signedAt, nil},
		{"query with lowercase escapes", vecSecret, "POST", vecURI + "?src=a%3ab%2fc&x=%20y", "[]", vecTS, vecQSig, signedAt, nil},
		{"stale", vecSecret, "POST", vecURI, vecBody, vecTS, vecSig, signedAt.Add(5*time.Minute + time.Millisecond), hubspot.ErrWebhookStale},
		{"from the future", vecSecret, "POST", vecURI, vecBody, vecTS, vecSig, signedAt.Add(-6 * time.Minute), hubspot.ErrWebhookStale},
		{"timestamp in seconds", vecSecret, "POST", vecURI, vecBody, "1764576000", vecSig, signedAt, hubspot.ErrWebhookStale},
		{"timestamp not a number", vecSecret, "POST", vecURI, vecBody, "yesterday", vecSig, signedAt, hubspot.ErrWebhookStale},
		{"no signature", vecSecret, "POST", vecURI, vecBody, vecTS, "", signedAt, hubspot.ErrWebhookUnsigned},
		{"no timestamp", vecSecret, "POST", vecURI, vecBody, "", vecSig, signedAt, hubspot.ErrWebhookUnsigned},
		{"other secret", vecSecret, "POST", vecURI, vecBody, vecTS, vecOther, signedAt, hubspot.ErrWebhookBadSignature},
		{"body changed", vecSecret, "POST", vecURI, `[{"eventId":1,"portalId":102}]`, vecTS, vecSig, signedAt, hubspot.ErrWebhookBadSignature},
		{"body reformatted", vecSecret, "POST", vecURI, `[{"eventId": 1, "portalId": 101}]`, vecTS, vecSig, signedAt, hubspot.ErrWebhookBadSignature},
		{"http instead of https", vecSecret, "POST", "http://refhub.example.com/hooks/hubspot", vecBody, vecTS, vecSig, signedAt, hubspot.ErrWebhookBadSignature},
		{"other method", vecSecret, "GET", vecURI, vecBody, vecTS, vecSig, signedAt, hubspot.ErrWebhookBadSignature},
		{"timestamp changed", vecSecret, "POST", vecURI, vecBody, "1764576000001", vecSig, signedAt, hubspot.ErrWebhookBadSignature},
		{"other escape kept", vecSecret, "POST", vecURI + "?src=a%3Ab%2Fc&x= y", "[]", vecTS, vecQSig, signedAt, hubspot.ErrWebhookBadSignature},
		{"not base64", vecSecret, "POST", vecURI, vecBody, vecTS, "%%%", signedAt, hubspot.ErrWebhookBadSignature},
		{"plus read as space", vecSecret, "POST", vecURI, vecBody, vecTS, "/UAZQOnfRtdD1IGj88Ci2ST1HCYBFhHp 4Z/ZhwIMiw=", signedAt, hubspot.ErrWebhookBadSignature},
		{"hex instead of base64", vecSecret, "POST", vecURI, vecBody, vecTS, "fd40194", signedAt, hubspot.ErrWebhookBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := hubspot.VerifyWebhookV3(tc.secret, tc.method, tc.uri, []byte(tc.body), tc.ts, tc.sig, tc.now)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.want)
			for _, other := range []error{hubspot.ErrWebhookStale, hubspot.ErrWebhookUnsigned, hubspot.ErrWebhookBadSignature} {
				if other != tc.want {
					assert.False(t, errors.Is(err, other), "%v is not %v", err, other)
				}
			}
		})
	}
	t.Run("no secret configured", func(t *testing.T) {
		err := hubspot.VerifyWebhookV3("", "POST", vecURI, []byte(vecBody), vecTS, vecSig, signedAt)
		assert.Error(t, err)
	})
}
