package hubspottest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Contact is a stored contact. Properties holds every set value, including
// the system properties hs_object_id, createdate and lastmodifieddate.
type Contact struct {
	ID         string
	Properties map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// contact is the simulator's record; unset properties are absent.
type contact struct {
	id      int64
	props   map[string]string
	created time.Time
	updated time.Time
}

func (c *contact) idString() string { return strconv.FormatInt(c.id, 10) }

func (c *contact) export() Contact {
	return Contact{ID: c.idString(), Properties: maps.Clone(c.props), CreatedAt: c.created, UpdatedAt: c.updated}
}

// findByEmail looks a contact up through the email index.
func (pt *portal) findByEmail(email string) (*contact, bool) {
	id, ok := pt.byEmail[strings.ToLower(email)]
	if !ok {
		return nil, false
	}
	return pt.contacts[id], true
}

// findByID looks a contact up by its record id string.
func (pt *portal) findByID(id string) (*contact, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, false
	}
	c, ok := pt.contacts[n]
	return c, ok
}

// createContact stores a new contact with already validated values.
// Callers hold s.mu and have checked email uniqueness.
func (s *Server) createContact(pt *portal, props map[string]string, now time.Time) *contact {
	s.nextContactID++
	c := &contact{id: s.nextContactID, props: make(map[string]string), created: now}
	pt.contacts[c.id] = c
	pt.applyProps(c, props, now)
	return c
}

// applyProps writes validated values: "" clears, a leading ";" appends to a
// checkbox, email changes move the index, system properties are maintained.
func (pt *portal) applyProps(c *contact, props map[string]string, now time.Time) {
	old := c.props["email"]
	for name, v := range props {
		switch {
		case v == "":
			delete(c.props, name)
		case strings.HasPrefix(v, ";") && pt.isCheckbox(name):
			c.props[name] = mergeCheckbox(c.props[name], v)
		default:
			c.props[name] = v
		}
	}
	pt.reindexEmail(c, old)
	c.updated = now
	c.props["hs_object_id"] = c.idString()
	c.props["createdate"] = hsTime(c.created)
	c.props["lastmodifieddate"] = hsTime(now)
}

func (sc *schema) isCheckbox(name string) bool {
	def, ok := sc.props[name]
	return ok && def.FieldType == "checkbox"
}

// mergeCheckbox appends ";a;b" to the current value, skipping repeats.
func mergeCheckbox(current, add string) string {
	var vals []string
	for _, v := range strings.Split(current+add, ";") {
		if v != "" && !slices.Contains(vals, v) {
			vals = append(vals, v)
		}
	}
	return strings.Join(vals, ";")
}

// reindexEmail keeps byEmail and the derived hs_email_domain in step with
// the contact's email after a write that may have changed it from old.
func (pt *portal) reindexEmail(c *contact, old string) {
	email := c.props["email"]
	if old != "" && old != email && pt.byEmail[old] == c.id {
		delete(pt.byEmail, old)
	}
	if email == "" {
		delete(c.props, "hs_email_domain")
		return
	}
	pt.byEmail[email] = c.id
	_, domain, _ := strings.Cut(email, "@")
	c.props["hs_email_domain"] = domain
}

// Contacts returns the portal's contacts sorted by id; nil for an unknown portal.
func (s *Server) Contacts(hubID int64) []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt, ok := s.portals[hubID]
	if !ok {
		return nil
	}
	ids := slices.Sorted(maps.Keys(pt.contacts))
	out := make([]Contact, 0, len(ids))
	for _, id := range ids {
		out = append(out, pt.contacts[id].export())
	}
	return out
}

// ContactByEmail finds a contact by email, case-insensitively.
func (s *Server) ContactByEmail(hubID int64, email string) (Contact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt, ok := s.portals[hubID]
	if !ok {
		return Contact{}, false
	}
	c, ok := pt.findByEmail(email)
	if !ok {
		return Contact{}, false
	}
	return c.export(), true
}

// SeedContact stores a contact without property validation (any property
// name and value is accepted; email is lowercased). It panics on an unknown
// portal or when the email already belongs to another contact.
func (s *Server) SeedContact(hubID int64, props map[string]string) Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.mustPortal("SeedContact", hubID)
	props = maps.Clone(props)
	if e, ok := props["email"]; ok {
		props["email"] = strings.ToLower(e)
		if c, taken := pt.findByEmail(e); taken {
			panic(fmt.Sprintf("hubspottest: SeedContact: email %s already belongs to contact %d", e, c.id))
		}
	}
	return s.createContact(pt, props, s.now()).export()
}
