package rftest

import (
	"net/http"
	"strconv"
	"strings"
)

// handleGetUser serves GET /api/v2/users/{identifier}. Referral Factory
// documents the identifier as an email or a code, and its guides retrieve
// by the numeric id too; all three are accepted, within the token's
// account. An email that joined several campaigns is narrowed by
// campaign_id when given, otherwise its first signup is returned.
func (s *Server) handleGetUser(ex *exchange) {
	id := strings.TrimSpace(ex.r.PathValue("identifier"))
	campaign, _ := strconv.ParseInt(ex.r.URL.Query().Get("campaign_id"), 10, 64)
	ex.rec.CampaignID = ex.r.URL.Query().Get("campaign_id")
	s.mu.Lock()
	u := s.findLocked(ex.account.ID, id, campaign)
	var out apiUser
	if u != nil {
		out = toAPIUser(&u.User)
	}
	s.mu.Unlock()
	if u == nil {
		ex.fail(http.StatusNotFound, "User not found.", nil)
		return
	}
	ex.json(http.StatusOK, struct {
		Data apiUser `json:"data"`
	}{out})
}

func (s *Server) findLocked(accountID int64, identifier string, campaignID int64) *user {
	n, numErr := strconv.ParseInt(identifier, 10, 64)
	for _, u := range s.users {
		if u.accountID != accountID || (campaignID != 0 && u.CampaignID != campaignID) {
			continue
		}
		switch {
		case numErr == nil && u.ID == n,
			strings.Contains(identifier, "@") && strings.EqualFold(u.Email, identifier),
			u.Code == identifier:
			return u
		}
	}
	return nil
}
