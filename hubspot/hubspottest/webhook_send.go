package hubspottest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SignatureMode says how a delivery is signed. Every mode but SignValid
// is a forgery that did not come from HubSpot: it leaves the events queued
// as they were, whatever the receiver answers.
type SignatureMode int

const (
	// SignValid signs like HubSpot: v3 over method, target URI, body and
	// timestamp, keyed with the client secret (and v1 alongside).
	SignValid SignatureMode = iota
	// SignWrongSecret signs with a secret that is not the app's.
	SignWrongSecret
	// SignStale signs correctly with a timestamp 5 minutes and 1 second old.
	SignStale
	// SignUnsigned sends no signature and no timestamp headers.
	SignUnsigned
	// SignTamperedBody signs the batch, then changes the body sent.
	SignTamperedBody
	// SignOtherURI signs over the target URL with its scheme swapped, as a
	// receiver hashing its own view of the URL behind a proxy would.
	SignOtherURI
)

// Delivery tunes one DeliverWebhooksWith call.
type Delivery struct {
	Signature SignatureMode
	// Copies sends each batch this many times at once, as HubSpot's
	// at-least-once delivery sometimes does; default 1.
	Copies int
	// Via are base URLs (scheme://host:port) to connect to instead of the
	// target's host, copy i going to Via[i%len(Via)], like a load balancer
	// in front of replicas: path and query still come from TargetURL, which
	// is still the URI signed and the Host header sent.
	Via []string
}

// WebhookAttempt is one request the simulator sent.
type WebhookAttempt struct {
	Time      time.Time // by Options.Clock
	URL       string    // where the request went
	Signature SignatureMode
	Events    []WebhookEvent
	Status    int    // 0 when there was no answer
	Err       string // transport error or timeout
	Elapsed   time.Duration
}

// OK reports whether the receiver answered 2xx in time.
func (a WebhookAttempt) OK() bool { return a.Err == "" && a.Status >= 200 && a.Status < 300 }

// PendingWebhook is an event waiting for its next attempt.
type PendingWebhook struct {
	Event WebhookEvent
	Due   time.Time
}

// DeliverWebhooks sends every event that is due (by Options.Clock), signed
// like HubSpot; see DeliverWebhooksWith.
func (s *Server) DeliverWebhooks(ctx context.Context) ([]WebhookAttempt, error) {
	return s.DeliverWebhooksWith(ctx, Delivery{})
}

// DeliverWebhooksWith sends every due event in batches of up to BatchSize,
// each batch one POST (or Copies at once), and returns the attempts. A
// signed batch counts as delivered when any copy is answered 2xx within
// Timeout; otherwise each of its events is queued again with its
// attemptNumber raised, after a randomized backoff of one minute to eight
// hours (HubSpot retries for about a day), until MaxAttempts attempts have
// failed and it is dropped. Tests move the clock to the next Due time
// (PendingWebhooks) instead of waiting. Forged deliveries leave the queue
// as it was.
func (s *Server) DeliverWebhooksWith(ctx context.Context, d Delivery) ([]WebhookAttempt, error) {
	s.mu.Lock()
	cfg := s.hooks.cfg
	if cfg == nil {
		s.mu.Unlock()
		return nil, errors.New("hubspottest: DeliverWebhooks: call ConfigureWebhooks first")
	}
	now := s.now()
	var due []WebhookEvent
	kept := s.hooks.pending[:0]
	for _, p := range s.hooks.pending {
		if p.due.After(now) {
			kept = append(kept, p)
		} else {
			due = append(due, p.ev)
		}
	}
	s.hooks.pending = kept
	s.mu.Unlock()
	var all []WebhookAttempt
	for len(due) > 0 {
		n := min(cfg.BatchSize, len(due))
		batch := due[:n]
		due = due[n:]
		attempts := s.send(ctx, cfg, d, batch)
		s.settle(cfg, d, batch, attempts)
		all = append(all, attempts...)
	}
	return all, nil
}

// send posts one batch Copies times concurrently.
func (s *Server) send(ctx context.Context, cfg *WebhookConfig, d Delivery, batch []WebhookEvent) []WebhookAttempt {
	copies := max(d.Copies, 1)
	body, _ := json.Marshal(batch)
	s.mu.Lock()
	now := s.now()
	s.mu.Unlock()
	attempts := make([]WebhookAttempt, copies)
	var wg sync.WaitGroup
	for i := range copies {
		target := cfg.TargetURL
		if len(d.Via) > 0 {
			target = via(cfg.TargetURL, d.Via[i%len(d.Via)])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			attempts[i] = s.post(ctx, cfg, d.Signature, target, body, now)
			attempts[i].Events = batch
		}()
	}
	wg.Wait()
	return attempts
}

// via replaces the scheme and host of target with those of base.
func via(target, base string) string {
	t, err1 := url.Parse(target)
	b, err2 := url.Parse(base)
	if err1 != nil || err2 != nil {
		return base
	}
	t.Scheme, t.Host = b.Scheme, b.Host
	return t.String()
}

// post sends one signed request and waits at most Timeout (real time).
func (s *Server) post(ctx context.Context, cfg *WebhookConfig, mode SignatureMode, target string, body []byte, now time.Time) WebhookAttempt {
	a := WebhookAttempt{Time: now, URL: target, Signature: mode}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	sent, headers := s.sign(cfg, body, mode, now)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(sent))
	if err != nil {
		a.Err = err.Error()
		return a
	}
	req.Header = headers
	if u, err := url.Parse(cfg.TargetURL); err == nil {
		req.Host = u.Host
	}
	start := time.Now()
	res, err := cfg.Client.Do(req)
	a.Elapsed = time.Since(start)
	if err != nil {
		a.Err = err.Error()
		return a
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if ctx.Err() != nil {
		a.Err = "no answer within " + cfg.Timeout.String()
	}
	a.Status = res.StatusCode
	return a
}

// sign returns the body to send and HubSpot's headers for it.
func (s *Server) sign(cfg *WebhookConfig, body []byte, mode SignatureMode, now time.Time) ([]byte, http.Header) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nio-http-client) - WebhooksExecutorDaemon-executor")
	h.Set("X-HubSpot-Timeout-Millis", strconv.FormatInt(cfg.Timeout.Milliseconds(), 10))
	if mode == SignUnsigned {
		return body, h
	}
	secret, uri, ts := s.opts.ClientSecret, cfg.TargetURL, now
	switch mode {
	case SignWrongSecret:
		secret = "not-" + secret
	case SignStale:
		ts = now.Add(-5*time.Minute - time.Second)
	case SignOtherURI:
		uri = swapScheme(cfg.TargetURL)
	}
	stamp := strconv.FormatInt(ts.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(http.MethodPost + hubspotDecodedURI(uri) + string(body) + stamp))
	v1 := sha256.Sum256([]byte(secret + string(body)))
	h.Set("X-HubSpot-Signature-v3", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	h.Set("X-HubSpot-Request-Timestamp", stamp)
	h.Set("X-HubSpot-Signature", hex.EncodeToString(v1[:]))
	h.Set("X-HubSpot-Signature-Version", "v1")
	if mode == SignTamperedBody {
		body = bytes.Replace(body, []byte(`"portalId":`), []byte(`"portalId":9`), 1)
	}
	return body, h
}

// hubspotDecodedURI is the URI as HubSpot hashes it: these percent-escapes
// decoded, everything else as configured.
func hubspotDecodedURI(uri string) string {
	return strings.NewReplacer(
		"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
		"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
		"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";",
	).Replace(uri)
}

func swapScheme(uri string) string {
	if rest, ok := strings.CutPrefix(uri, "https://"); ok {
		return "http://" + rest
	}
	return "https://" + strings.TrimPrefix(uri, "http://")
}

// settle records the attempts and requeues or drops a failed batch.
func (s *Server) settle(cfg *WebhookConfig, d Delivery, batch []WebhookEvent, attempts []WebhookAttempt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks.attempts = append(s.hooks.attempts, attempts...)
	now := s.now()
	if d.Signature != SignValid {
		for _, ev := range batch {
			s.hooks.pending = append(s.hooks.pending, pendingEvent{ev: ev, due: now})
		}
		return
	}
	for _, a := range attempts {
		if a.OK() {
			return
		}
	}
	for _, ev := range batch {
		ev.AttemptNumber++
		if ev.AttemptNumber >= cfg.MaxAttempts {
			s.hooks.dropped = append(s.hooks.dropped, ev)
			continue
		}
		s.hooks.pending = append(s.hooks.pending, pendingEvent{ev: ev, due: now.Add(s.backoff(ev.AttemptNumber))})
	}
}

// retryDelays spread HubSpot's ten attempts over about a day.
var retryDelays = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 6 * time.Hour, 8 * time.Hour}

// backoff is the delay before attempt n (1-based retry), with up to 25 %
// random extra; callers hold s.mu.
func (s *Server) backoff(n int) time.Duration {
	base := retryDelays[min(n, len(retryDelays))-1]
	return base + time.Duration(s.hooks.rng.Int64N(int64(base/4)+1))
}

// PendingWebhooks returns the events waiting for an attempt, oldest first.
func (s *Server) PendingWebhooks() []PendingWebhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PendingWebhook, len(s.hooks.pending))
	for i, p := range s.hooks.pending {
		out[i] = PendingWebhook{Event: p.ev, Due: p.due}
	}
	return out
}

// WebhookAttempts returns every request sent so far, in order.
func (s *Server) WebhookAttempts() []WebhookAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]WebhookAttempt(nil), s.hooks.attempts...)
}

// DroppedWebhooks returns the events HubSpot gave up on after MaxAttempts.
func (s *Server) DroppedWebhooks() []WebhookEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]WebhookEvent(nil), s.hooks.dropped...)
}

// String names a mode in test output.
func (m SignatureMode) String() string {
	names := []string{"valid", "wrong secret", "stale", "unsigned", "tampered body", "other URI"}
	if int(m) < len(names) {
		return names[m]
	}
	return fmt.Sprintf("SignatureMode(%d)", int(m))
}
