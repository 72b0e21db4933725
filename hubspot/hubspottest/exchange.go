package hubspottest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"
)

// exchange is one request in flight: the writer and what the request log
// will record about it.
type exchange struct {
	s        *Server
	w        http.ResponseWriter
	r        *http.Request
	started  time.Time
	endpoint string
	hubID    int64
	inputs   int
	status   int
	category string
	injected bool
}

func (s *Server) newExchange(w http.ResponseWriter, r *http.Request) *exchange {
	return &exchange{s: s, w: w, r: r, started: s.now(), endpoint: "unknown"}
}

// finish appends the request to the log once the response is written.
func (ex *exchange) finish() {
	status := ex.status
	if status == 0 {
		status = http.StatusOK
	}
	ex.s.record(ex, Request{
		Time:     ex.started,
		Method:   ex.r.Method,
		Path:     ex.r.URL.Path,
		Endpoint: ex.endpoint,
		HubID:    ex.hubID,
		Status:   status,
		Inputs:   ex.inputs,
		Category: ex.category,
		Injected: ex.injected,
	})
}

// apiError is HubSpot's standard error body. Field order follows what
// HubSpot sends.
type apiError struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category,omitempty"`
	SubCategory   string              `json:"subCategory,omitempty"`
	Context       map[string][]string `json:"context,omitempty"`
	Errors        []errorDetail       `json:"errors,omitempty"`
	Links         map[string]string   `json:"links,omitempty"`
}

// errorDetail is one entry of an error body's errors array.
type errorDetail struct {
	Message string              `json:"message"`
	Code    string              `json:"code,omitempty"`
	Context map[string][]string `json:"context,omitempty"`
}

// fail writes a standard error body with a fresh correlation id.
func (ex *exchange) fail(status int, category, message string, ctx map[string][]string) {
	ex.failWith(status, apiError{Category: category, Message: message, Context: ctx})
}

// failWith completes and writes e, recording its category.
func (ex *exchange) failWith(status int, e apiError) {
	e.Status = "error"
	e.CorrelationID = newUUID()
	ex.category = e.Category
	ex.json(status, e)
}

// json writes v as the response body. HTML escaping is off because HubSpot
// does not escape <, > and & in its JSON.
func (ex *exchange) json(status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		buf.WriteString(`{"status":"error","message":"hubspottest: cannot encode response","category":"INTERNAL_ERROR"}`)
		status = http.StatusInternalServerError
	}
	ex.w.Header().Set("Content-Type", "application/json;charset=utf-8")
	ex.writeHeader(status)
	_, _ = ex.w.Write(buf.Bytes())
}

// html writes an HTML page.
func (ex *exchange) html(status int, body []byte) {
	ex.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	ex.w.Header().Set("X-Frame-Options", "DENY")
	ex.writeHeader(status)
	_, _ = ex.w.Write(body)
}

// redirect answers 302 Found to location.
func (ex *exchange) redirect(location string) {
	ex.w.Header().Set("Location", location)
	ex.w.Header().Set("Cache-Control", "no-store")
	ex.writeHeader(http.StatusFound)
}

// noContent answers 204.
func (ex *exchange) noContent() { ex.writeHeader(http.StatusNoContent) }

func (ex *exchange) writeHeader(status int) {
	ex.status = status
	ex.w.WriteHeader(status)
}

// newUUID returns a random RFC 4122 version 4 UUID string.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// randomHex returns n random bytes hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// hsTime formats t the way HubSpot formats timestamps.
func hsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
