package qualify_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/hshooks"
	"github.com/refhub/refhub/hubspot"
)

// TestSignedButMalformedBatchesAreRefused: a request HubSpot signed whose
// body is not a batch refhub can read (not JSON, an object instead of a
// list, more events than a batch holds), or a body over the size limit, is
// refused with a 4xx naming the problem, and nothing is stored or sent.
func TestSignedButMalformedBatchesAreRefused(t *testing.T) {
	w := newWorld(t)
	w.customer(t)
	var many []string
	for i := range 201 {
		many = append(many, fmt.Sprintf(`{"eventId":%d,"portalId":%d,"subscriptionType":"contact.propertyChange","objectId":%s,"propertyName":"lifecyclestage","propertyValue":"customer","occurredAt":1}`, i+1, hub, w.contact))
	}
	for _, tc := range []struct {
		name   string
		body   string
		status int
		says   string
	}{
		{"not JSON", `eventId=1`, http.StatusBadRequest, "JSON array"},
		{"an object", `{"eventId":1}`, http.StatusBadRequest, "JSON array"},
		{"201 events", "[" + strings.Join(many, ",") + "]", http.StatusBadRequest, "at most 200 events"},
		{"over 256 KiB", "[" + strings.Repeat(" ", hshooks.MaxBody) + "]", http.StatusRequestEntityTooLarge, "256 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, answer := w.postSigned(t, []byte(tc.body))
			assert.Equal(t, tc.status, status)
			assert.Contains(t, answer, tc.says)
			n, err := w.env.App.HubSpotInbox().Pending(context.Background())
			require.NoError(t, err)
			assert.Zero(t, n, "nothing stored")
			w.settle(t, w.env.App)
			assert.Zero(t, w.qualifyCalls(), "no call")
		})
	}
	// The same signing on a well-formed batch is accepted: the refusals
	// above are about the body, not the signature.
	status, answer := w.postSigned(t, []byte("["+many[0]+"]"))
	require.Equal(t, http.StatusNoContent, status, answer)
	w.settle(t, w.env.App)
	assert.Equal(t, 1, w.qualifyCalls())
}

// postSigned posts body to /hooks/hubspot signed the way HubSpot signs (v3,
// with the test app's client secret) and returns the status and the answer.
func (w *world) postSigned(t *testing.T, body []byte) (int, string) {
	t.Helper()
	uri := w.env.URL(hshooks.Path)
	stamp := strconv.FormatInt(w.env.Clock.Now().UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte("refhub-test-secret"))
	mac.Write([]byte(http.MethodPost + uri + string(body) + stamp))
	req, err := http.NewRequest(http.MethodPost, uri, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(hubspot.HeaderRequestTimestamp, stamp)
	req.Header.Set(hubspot.HeaderSignatureV3, base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}
