package hubspottest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// record is a stored CRM object; deals have the same shape as contacts.
type record = contact

// firstDealID is where deal ids start, far from contact ids so that a
// client mixing them up is caught.
const firstDealID = 20_000_000_000

// deals is a portal's deal state.
type deals struct {
	records map[int64]*record
	nextID  int64
	// unique indexes the values of unique-value properties:
	// property name → value → deal id.
	unique    map[string]map[string]int64
	pipelines []*pipeline
}

// Deal is a stored deal. Properties holds every set value, including the
// system properties hs_object_id, createdate and hs_lastmodifieddate.
type Deal struct {
	ID         string
	Properties map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func exportDeal(d *record) Deal {
	return Deal{ID: d.idString(), Properties: maps.Clone(d.props), CreatedAt: d.created, UpdatedAt: d.updated}
}

// findDeal looks a deal up by its record id string.
func (pt *portal) findDeal(id string) (*record, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, false
	}
	d, ok := pt.deals.records[n]
	return d, ok
}

// dealByUnique finds the deal holding value in a unique-value property.
func (pt *portal) dealByUnique(prop, value string) (*record, bool) {
	id, ok := pt.deals.unique[prop][value]
	if !ok {
		return nil, false
	}
	return pt.deals.records[id], true
}

// createDeal stores a new deal with validated values; callers hold s.mu.
func (pt *portal) createDeal(values map[string]string, now time.Time) *record {
	pt.deals.nextID++
	d := &record{id: pt.deals.nextID, props: make(map[string]string), created: now}
	pt.deals.records[d.id] = d
	if values["pipeline"] == "" {
		values["pipeline"] = "default"
	}
	pt.applyDealProps(d, values, now)
	return d
}

// applyDealProps writes validated values ("" clears) and keeps the unique
// index and the system properties in step; callers hold s.mu.
func (pt *portal) applyDealProps(d *record, values map[string]string, now time.Time) {
	for name, v := range values {
		if def, ok := pt.dealSchema.props[name]; ok && def.HasUniqueValue {
			pt.reindexUnique(d, name, v)
		}
		switch {
		case v == "":
			delete(d.props, name)
		case strings.HasPrefix(v, ";") && pt.dealSchema.isCheckbox(name):
			d.props[name] = mergeCheckbox(d.props[name], v)
		default:
			d.props[name] = v
		}
	}
	d.updated = now
	d.props["hs_object_id"] = d.idString()
	d.props["createdate"] = hsTime(d.created)
	d.props["hs_lastmodifieddate"] = hsTime(now)
	if p, ok := pt.pipeline(d.props["pipeline"]); ok {
		if st, ok := p.stage(d.props["dealstage"]); ok {
			d.props["hs_is_closed"] = strconv.FormatBool(st.closed)
		}
	}
}

func (pt *portal) reindexUnique(d *record, name, v string) {
	idx := pt.deals.unique[name]
	if idx == nil {
		idx = make(map[string]int64)
		pt.deals.unique[name] = idx
	}
	if old, ok := d.props[name]; ok && idx[old] == d.id {
		delete(idx, old)
	}
	if v != "" {
		idx[v] = d.id
	}
}

// Deals returns the portal's deals sorted by id; nil for an unknown portal.
func (s *Server) Deals(hubID int64) []Deal {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt, ok := s.portals[hubID]
	if !ok {
		return nil
	}
	ids := slices.Sorted(maps.Keys(pt.deals.records))
	out := make([]Deal, 0, len(ids))
	for _, id := range ids {
		out = append(out, exportDeal(pt.deals.records[id]))
	}
	return out
}

// DealByProperty finds the deal whose property has exactly value.
func (s *Server) DealByProperty(hubID int64, property, value string) (Deal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt, ok := s.portals[hubID]
	if !ok {
		return Deal{}, false
	}
	for _, id := range slices.Sorted(maps.Keys(pt.deals.records)) {
		if d := pt.deals.records[id]; d.props[property] == value {
			return exportDeal(d), true
		}
	}
	return Deal{}, false
}

// SeedDeal stores a deal without property validation (pipeline defaults to
// "default"). It panics on an unknown portal or a unique value another
// deal holds.
func (s *Server) SeedDeal(hubID int64, props map[string]string) Deal {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.mustPortal("SeedDeal", hubID)
	props = maps.Clone(props)
	if props == nil {
		props = map[string]string{}
	}
	for name, v := range props {
		if other, taken := pt.dealByUnique(name, v); taken {
			panic(fmt.Sprintf("hubspottest: SeedDeal: %s %q already belongs to deal %d", name, v, other.id))
		}
	}
	return exportDeal(pt.createDeal(props, s.now()))
}

// MoveDealStage moves a deal to another stage of its pipeline the way a
// salesperson drags it on the board: the change is recorded as made in the
// HubSpot UI by the portal's first user, and a deal.propertyChange event
// for dealstage is queued if the app subscribes to it. Moving to the
// current stage changes nothing. It panics on an unknown portal.
func (s *Server) MoveDealStage(hubID int64, dealID, stageID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.mustPortal("MoveDealStage", hubID)
	d, ok := pt.findDeal(dealID)
	if !ok {
		return fmt.Errorf("hubspottest: MoveDealStage: portal %d has no deal %s", hubID, dealID)
	}
	p, _ := pt.pipeline(d.props["pipeline"])
	if p == nil {
		return fmt.Errorf("hubspottest: MoveDealStage: deal %s has no pipeline", dealID)
	}
	if _, ok := p.stage(stageID); !ok {
		return fmt.Errorf("hubspottest: MoveDealStage: %q is not a stage of pipeline %q (stages: %s)",
			stageID, p.id, strings.Join(p.stageIDs(), ", "))
	}
	if d.props["dealstage"] == stageID {
		return nil
	}
	now := s.now()
	pt.applyDealProps(d, map[string]string{"dealstage": stageID}, now)
	s.queuePropertyChange(pt, dealsKind, d.id, "dealstage", stageID, uiChange(pt), now)
	return nil
}

// DeleteDealProperty deletes a deal property definition the way an admin
// does in HubSpot's settings: writes and reads naming it are refused until
// it is created again. The deals keep their values (HubSpot keeps an
// archived property's values). It panics on an unknown portal.
func (s *Server) DeleteDealProperty(hubID int64, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.mustPortal("DeleteDealProperty", hubID)
	delete(pt.dealSchema.props, name)
	pt.dealSchema.propOrder = slices.DeleteFunc(pt.dealSchema.propOrder, func(n string) bool { return n == name })
}

// DeleteDeal deletes a deal the way a salesperson does in HubSpot: it is
// gone from reads and associations, and its unique values are free again.
// It panics on an unknown portal.
func (s *Server) DeleteDeal(hubID int64, dealID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.mustPortal("DeleteDeal", hubID)
	d, ok := pt.findDeal(dealID)
	if !ok {
		return fmt.Errorf("hubspottest: DeleteDeal: portal %d has no deal %s", hubID, dealID)
	}
	for name, idx := range pt.deals.unique {
		if idx[d.props[name]] == d.id {
			delete(idx, d.props[name])
		}
	}
	pt.assoc.forget(objRef{kind: dealsKind.typeID, id: d.id})
	delete(pt.deals.records, d.id)
	return nil
}
