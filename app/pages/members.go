package pages

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/web"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/tenants"
)

// membersView lists the workspace's members; the owner also gets the
// portals to grant, and Confirm when a removal waits for confirmation.
type membersView struct {
	Members []memberRow
	Portals []tenants.Portal
	Owner   bool
	Confirm *confirmRemoval
}

// memberRow is a member with the domains of their portals.
type memberRow struct {
	workspace.MemberView
	All     bool
	Granted map[int64]bool
	Names   []string // domains of the portals granted that the viewer may see
	Via     string   // domain of the portal they joined through
}

// confirmRemoval asks the owner to confirm removing a member whose grant
// is the last working one of some portals.
type confirmRemoval struct {
	ID      int64
	Email   string
	Message string
}

// Members lists who may sign in to the workspace; the owner manages them.
func (h *Pages) Members(c *gin.Context) error {
	return h.renderMembers(c, http.StatusOK, nil)
}

func (h *Pages) renderMembers(c *gin.Context, status int, confirm *confirmRemoval) error {
	ctx := c.Request.Context()
	who := auth.PrincipalOf(c)
	ms, err := h.ws.Members.List(ctx, who.WorkspaceID, who.Member)
	if err != nil {
		return err
	}
	ps, _, err := h.ws.Portals.Search(ctx, who.WorkspaceID, who.Member, "")
	if err != nil {
		return err
	}
	domain := map[int64]string{}
	for _, p := range ps {
		domain[p.HubID] = p.Domain
	}
	v := membersView{Portals: ps, Owner: who.Member.Role == tenants.Owner, Confirm: confirm}
	for _, m := range ms {
		row := memberRow{MemberView: m, Granted: map[int64]bool{}, Via: domain[m.JoinedVia]}
		if hubs, ok := m.Portals.([]int64); ok {
			for _, hub := range hubs {
				row.Granted[hub] = true
				row.Names = append(row.Names, domain[hub])
			}
		} else {
			row.All = true
		}
		v.Members = append(v.Members, row)
	}
	h.render(c, status, "members.html", page{Title: "Members", Nav: "members", Data: v})
	return nil
}

// SaveMember sets a member's role and portals (owner only).
func (h *Pages) SaveMember(c *gin.Context) error {
	id, err := web.MemberID(c)
	if err != nil {
		return err
	}
	g := tenants.Grant{Role: tenants.Role(c.PostForm("role")), AllPortals: c.PostForm("all") == "on"}
	if !g.AllPortals {
		g.Portals = []int64{}
		for _, s := range c.PostFormArray("portal") {
			hub, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return h.redirectFlash(c, "/app/members", "Choose portals from the list.", true)
			}
			g.Portals = append(g.Portals, hub)
		}
	}
	m, err := h.ws.Members.Set(c.Request.Context(), auth.PrincipalOf(c).WorkspaceID, id, g)
	if err != nil {
		return h.redirectError(c, "/app/members", err)
	}
	return h.redirectFlash(c, "/app/members", "Saved: "+m.Email+" is now "+string(m.Role)+", from their next click.", false)
}

// RemoveMember removes a member (owner only); a member whose grant is the
// last working one of a portal is removed only once the owner confirms.
func (h *Pages) RemoveMember(c *gin.Context) error {
	id, err := web.MemberID(c)
	if err != nil {
		return err
	}
	ws := auth.PrincipalOf(c).WorkspaceID
	r, err := h.ws.Members.Remove(c.Request.Context(), ws, id, c.PostForm("confirm") == "yes")
	var last *workspace.LastGrantError
	if errors.As(err, &last) {
		return h.renderMembers(c, http.StatusConflict, &confirmRemoval{ID: id, Email: last.Email, Message: last.Error()})
	}
	if err != nil {
		return h.redirectError(c, "/app/members", err)
	}
	msg := "Removed " + r.Member.Email + ": their sessions and API tokens no longer work"
	if len(r.Revoked) > 0 {
		msg += ", and their HubSpot access was revoked"
	}
	return h.redirectFlash(c, "/app/members", msg+".", false)
}
