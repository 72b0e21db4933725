package rftest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Event is what fires an outbound webhook, named as Referral Factory's
// webhook form names it.
type Event string

// Outbound webhook events.
const (
	// EventReferrerJoins fires when a person referring joins.
	EventReferrerJoins Event = "A new referrer joins"
	// EventLeadCreated fires when a person invited joins.
	EventLeadCreated Event = "A new lead is created"
	// EventUserJoins is the older UI's "when a new user (Person Referring
	// OR Person Invited) joins your campaign".
	EventUserJoins Event = "A new user joins"
	// EventLeadQualified fires when a lead is qualified (dashboard, API or
	// inbound webhook).
	EventLeadQualified Event = "A lead is qualified"
)

// maxHeaders is the documented limit of custom headers per webhook.
const maxHeaders = 3

// Webhook is an outbound webhook of a campaign, with the options Referral
// Factory's webhook forms offer.
type Webhook struct {
	// URL must be https (Options.AllowHTTPWebhooks lets http through).
	URL string
	// Method is POST (default, a JSON body) or GET (the payload as a query
	// string), as the older UI allows.
	Method string
	Event  Event
	// Sources limits the webhook to users of these sources; empty is all.
	Sources []string
	// Headers are sent with every request; at most 3.
	Headers map[string]string
	// Fields, when not nil, are the only top-level keys sent (the older
	// UI's "User Fields" toggles); Rename renames keys after that; Hidden
	// adds constant key/values ("Hidden Fields").
	Fields []string
	Rename map[string]string
	Hidden map[string]string
	// NestedReferrer sends a lead's referrer as an object under "referrer"
	// instead of referrer_* keys.
	NestedReferrer bool
}

// Delivery is one outbound webhook request the simulator sent. There are no
// retries: Referral Factory documents none.
type Delivery struct {
	WebhookID int64
	Event     Event
	UserID    int64
	Time      time.Time // by Options.Clock
	Method    string
	URL       string
	Header    http.Header
	Body      []byte
	// Status is the receiver's answer, 0 when none came (Err says why).
	Status int
	Err    string
}

type hook struct {
	id         int64
	campaignID int64
	Webhook
}

type hookState struct {
	byCampaign map[int64][]*hook
	nextID     int64
	deliveries []Delivery
	inflight   int
	idle       *sync.Cond
}

// send is one delivery decided under the lock, with its payload rendered.
type send struct {
	hook   *hook
	event  Event
	userID int64
	fields []kv
}

// AddWebhook adds an outbound webhook to a campaign and returns its id.
func (s *Server) AddWebhook(campaignID int64, w Webhook) (int64, error) {
	if err := s.checkWebhook(&w); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.campaigns[campaignID]; !ok {
		return 0, fmt.Errorf("rftest: no campaign %d", campaignID)
	}
	s.hooks.nextID++
	h := &hook{id: s.hooks.nextID, campaignID: campaignID, Webhook: w}
	s.hooks.byCampaign[campaignID] = append(s.hooks.byCampaign[campaignID], h)
	return h.id, nil
}

func (s *Server) checkWebhook(w *Webhook) error {
	u, err := url.Parse(w.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && s.opts.AllowHTTPWebhooks)) {
		return fmt.Errorf("rftest: webhook URL must be an https URL")
	}
	w.Method = strings.ToUpper(defaultString(w.Method, http.MethodPost))
	if w.Method != http.MethodPost && w.Method != http.MethodGet {
		return fmt.Errorf("rftest: webhook method must be POST or GET")
	}
	switch w.Event {
	case EventReferrerJoins, EventLeadCreated, EventUserJoins, EventLeadQualified:
	default:
		return fmt.Errorf("rftest: unknown webhook event %q", w.Event)
	}
	if len(w.Headers) > maxHeaders {
		return fmt.Errorf("rftest: at most %d custom headers", maxHeaders)
	}
	return nil
}

// RemoveWebhook deletes a webhook; it reports whether it existed.
func (s *Server) RemoveWebhook(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c, hs := range s.hooks.byCampaign {
		for i, h := range hs {
			if h.id == id {
				s.hooks.byCampaign[c] = append(hs[:i:i], hs[i+1:]...)
				return true
			}
		}
	}
	return false
}

// joinSendsLocked are the deliveries a user joining fires.
func (s *Server) joinSendsLocked(u *user) []send {
	return s.sendsLocked(u, func(e Event) bool {
		return e == EventUserJoins || (e == EventReferrerJoins && u.Type == TypePersonReferring) ||
			(e == EventLeadCreated && u.Type == TypePersonInvited)
	})
}

// qualifiedSendsLocked are the deliveries a lead's qualification fires.
func (s *Server) qualifiedSendsLocked(u *user) []send {
	return s.sendsLocked(u, func(e Event) bool { return e == EventLeadQualified })
}

func (s *Server) sendsLocked(u *user, fires func(Event) bool) []send {
	var out []send
	for _, h := range s.hooks.byCampaign[u.CampaignID] {
		if !fires(h.Event) || (len(h.Sources) > 0 && !contains(h.Sources, u.Source)) {
			continue
		}
		out = append(out, send{hook: h, event: h.Event, userID: u.ID, fields: s.payloadLocked(u, h)})
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// deliver sends each delivery once, in the background; Wait waits for them.
func (s *Server) deliver(sends []send) {
	if len(sends) == 0 {
		return
	}
	s.mu.Lock()
	s.hooks.inflight += len(sends)
	s.mu.Unlock()
	for _, sd := range sends {
		go func() {
			d := s.post(sd)
			s.mu.Lock()
			s.hooks.deliveries = append(s.hooks.deliveries, d)
			s.hooks.inflight--
			s.hooks.idle.Broadcast()
			s.mu.Unlock()
		}()
	}
}

// Wait blocks until every outbound webhook started so far has been sent
// and answered (or failed).
func (s *Server) Wait() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.hooks.inflight > 0 {
		s.hooks.idle.Wait()
	}
}

// Deliveries returns the outbound webhook requests sent so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.hooks.deliveries...)
}

// post sends one delivery and reports how it went.
func (s *Server) post(sd send) Delivery {
	d := Delivery{WebhookID: sd.hook.id, Event: sd.event, UserID: sd.userID, Time: s.now(), Method: sd.hook.Method, URL: sd.hook.URL}
	var body io.Reader
	if d.Method == http.MethodGet {
		sep := "?"
		if strings.Contains(d.URL, "?") {
			sep = "&"
		}
		d.URL += sep + encodeQuery(sd.fields)
	} else {
		d.Body = encodeJSON(sd.fields)
		body = bytes.NewReader(d.Body)
	}
	req, err := http.NewRequest(d.Method, d.URL, body)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	if d.Method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range sd.hook.Headers {
		req.Header.Set(k, v)
	}
	d.Header = req.Header.Clone()
	resp, err := s.opts.WebhookClient.Do(req)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	d.Status = resp.StatusCode
	return d
}
