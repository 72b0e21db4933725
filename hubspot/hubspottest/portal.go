package hubspottest

import (
	"fmt"
)

// User is a HubSpot user who can install the app into a portal.
type User struct {
	ID    int64
	Email string
}

// Portal is a test HubSpot account (hub) with the users who may install the app.
type Portal struct {
	HubID  int64
	Domain string
	Users  []User
}

// portal is the simulator's state for one HubSpot account.
type portal struct {
	info Portal
	// installGen changes on Uninstall; tokens from an older installation
	// are dead. refreshGen also changes on RevokeRefreshTokens.
	installGen int
	refreshGen int
	// deactivated holds users deactivated in the account: their refresh
	// tokens stop working and they can no longer authorize the app.
	deactivated map[int64]bool

	// schema holds the contact properties; it is embedded because most of
	// the simulator is about contacts.
	schema
	dealSchema schema

	contacts map[int64]*contact
	byEmail  map[string]int64

	deals deals
	assoc associations

	window rollingWindow
}

func (p Portal) withDefaults() Portal {
	if p.Domain == "" {
		p.Domain = fmt.Sprintf("hub-%d.example.com", p.HubID)
	}
	if len(p.Users) == 0 {
		p.Users = []User{{ID: 1, Email: "admin@" + p.Domain}}
	}
	p.Users = append([]User(nil), p.Users...)
	return p
}

func (p Portal) user(id int64) (User, bool) {
	for _, u := range p.Users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

// AddPortal adds a test portal with HubSpot's standard contact properties and
// groups. An empty Domain defaults to "hub-<id>.example.com" and no Users to
// one user (ID 1, admin@<domain>). Adding an existing HubID replaces its
// domain and users and keeps its data. It panics on a HubID <= 0.
func (s *Server) AddPortal(p Portal) {
	if p.HubID <= 0 {
		panic(fmt.Sprintf("hubspottest: AddPortal: invalid hub id %d", p.HubID))
	}
	p = p.withDefaults()
	s.mu.Lock()
	defer s.mu.Unlock()
	if existing, ok := s.portals[p.HubID]; ok {
		existing.info = p
		return
	}
	pt := &portal{
		info:     p,
		contacts: make(map[int64]*contact),
		byEmail:  make(map[string]int64),
	}
	pt.seedStandardSchema(s.now())
	pt.seedDeals(s.now())
	s.portals[p.HubID] = pt
	s.portalOrder = append(s.portalOrder, p.HubID)
}

// Portals returns the test portals in the order they were added.
func (s *Server) Portals() []Portal {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Portal, 0, len(s.portalOrder))
	for _, id := range s.portalOrder {
		info := s.portals[id].info
		info.Users = append([]User(nil), info.Users...)
		out = append(out, info)
	}
	return out
}

// Uninstall simulates the customer uninstalling the app: every access and
// refresh token of the portal stops working at once. Contacts and
// properties stay, as they do in HubSpot.
func (s *Server) Uninstall(hubID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.portals[hubID]; ok {
		p.installGen++
		p.refreshGen++
	}
}

// RevokeRefreshTokens revokes every refresh token of the portal; access
// tokens keep working until they expire.
func (s *Server) RevokeRefreshTokens(hubID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.portals[hubID]; ok {
		p.refreshGen++
	}
}

// DeactivateUser simulates an account admin deactivating user userID (or
// the user leaving the company): as HubSpot documents, the refresh tokens
// that user authorized stop working (a refresh answers invalid_grant) and
// the user can no longer install the app; access tokens already issued
// run until they expire. It panics on an unknown portal or user.
func (s *Server) DeactivateUser(hubID, userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal("DeactivateUser", hubID)
	if _, ok := p.info.user(userID); !ok {
		panic(fmt.Sprintf("hubspottest: DeactivateUser: portal %d has no user %d", hubID, userID))
	}
	if p.deactivated == nil {
		p.deactivated = map[int64]bool{}
	}
	p.deactivated[userID] = true
}

// mustPortal returns the portal or panics; for test-facing helpers. Callers
// hold s.mu.
func (s *Server) mustPortal(op string, hubID int64) *portal {
	p, ok := s.portals[hubID]
	if !ok {
		panic(fmt.Sprintf("hubspottest: %s: unknown portal %d (call AddPortal first)", op, hubID))
	}
	return p
}
