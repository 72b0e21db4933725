package hubspottest

import (
	"fmt"
	"net/http"
	"strings"
)

// SetContactProperty changes one property of a contact the way a HubSpot
// user does in the contact record (say lifecyclestage to customer): the
// value is validated like an API write, the change is recorded as made in
// the UI by the portal's first user, and a contact.propertyChange event is
// queued for each active subscription to that property. Setting the value
// a contact already has changes nothing and sends nothing. It panics on an
// unknown portal.
func (s *Server) SetContactProperty(hubID int64, contactID, name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.mustPortal("SetContactProperty", hubID)
	c, ok := pt.findByID(contactID)
	if !ok {
		return fmt.Errorf("hubspottest: SetContactProperty: portal %d has no contact %s", hubID, contactID)
	}
	issues, values := pt.validateProps(map[string]string{name: value})
	if len(issues) > 0 {
		return fmt.Errorf("hubspottest: SetContactProperty: %s", issuesMessage(issues))
	}
	if e := values["email"]; e != "" {
		if other, taken := pt.findByEmail(e); taken && other != c {
			return fmt.Errorf("hubspottest: SetContactProperty: email %s belongs to contact %d", e, other.id)
		}
	}
	old, had := c.props[name]
	now := s.now()
	pt.applyProps(c, values, now)
	if cur, has := c.props[name]; cur == old && has == had {
		return nil
	}
	s.queuePropertyChange(pt, contactsKind, c.id, name, c.props[name], uiChange(pt), now)
	return nil
}

// GDPRDeleteContact permanently deletes a contact as a HubSpot user does
// for a privacy request: the contact and its associations are gone, and
// contact.privacyDeletion (and contact.deletion) events are queued for
// active subscriptions. It panics on an unknown portal.
func (s *Server) GDPRDeleteContact(hubID int64, contactID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.mustPortal("GDPRDeleteContact", hubID)
	c, ok := pt.findByID(contactID)
	if !ok {
		return fmt.Errorf("hubspottest: GDPRDeleteContact: portal %d has no contact %s", hubID, contactID)
	}
	s.gdprDelete(pt, c, uiChange(pt))
	return nil
}

// gdprDelete removes a contact for good; callers hold s.mu.
func (s *Server) gdprDelete(pt *portal, c *contact, src changeSource) {
	delete(pt.contacts, c.id)
	if e := c.props["email"]; e != "" && pt.byEmail[e] == c.id {
		delete(pt.byEmail, e)
	}
	pt.assoc.forget(objRef{kind: contactsKind.typeID, id: c.id})
	now := s.now()
	s.queueDeletion(pt, contactsKind, c.id, "privacyDeletion", src, now)
	s.queueDeletion(pt, contactsKind, c.id, "deletion", src, now)
}

// handleGDPRDelete serves POST /crm/objects/{v}/contacts/gdpr-delete with
// {"objectId", "idProperty"}: by record id (unknown → 404) or by email (an
// unknown email is accepted: HubSpot blocklists it). 204 on success.
func (s *Server) handleGDPRDelete(ex *exchange) {
	var in struct {
		ObjectID   string `json:"objectId"`
		IDProperty string `json:"idProperty"`
	}
	if !decodeJSON(ex, &in) {
		return
	}
	var f *failure
	switch {
	case strings.TrimSpace(in.ObjectID) == "":
		f = badRequest("Some required fields were not set: [objectId]")
	case in.IDProperty != "" && in.IDProperty != "email" && in.IDProperty != "hs_object_id":
		f = badRequest("idProperty %q is not supported for a GDPR deletion; use email or leave it out", in.IDProperty)
	}
	if f != nil {
		ex.failure(f)
		return
	}
	ex.inputs = 1
	s.mu.Lock()
	pt := s.portals[ex.hubID]
	var c *contact
	var found bool
	if in.IDProperty == "email" {
		c, found = pt.findByEmail(in.ObjectID)
	} else {
		c, found = pt.findByID(in.ObjectID)
	}
	if found {
		s.gdprDelete(pt, c, s.apiChange())
	}
	s.mu.Unlock()
	if !found && in.IDProperty != "email" {
		ex.fail(http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found: no contact "+in.ObjectID, nil)
		return
	}
	ex.noContent()
}
