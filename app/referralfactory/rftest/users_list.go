package rftest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Paging limits of GET /users (documented: per_page default 25, max 250).
const (
	defaultPerPage = 25
	maxPerPage     = 250
)

// pageMeta and pageLinks are the paging fields of a list answer. The
// documented ones are meta.current_page and links.next; the rest is
// Laravel's paginator, which the documented names come from.
type pageMeta struct {
	CurrentPage int    `json:"current_page"`
	From        *int   `json:"from"`
	LastPage    int    `json:"last_page"`
	Path        string `json:"path"`
	PerPage     int    `json:"per_page"`
	To          *int   `json:"to"`
	Total       int    `json:"total"`
}

type pageLinks struct {
	First string  `json:"first"`
	Last  string  `json:"last"`
	Prev  *string `json:"prev"`
	Next  *string `json:"next"`
}

type usersPage struct {
	Data  []apiUser `json:"data"`
	Links pageLinks `json:"links"`
	Meta  pageMeta  `json:"meta"`
}

// handleListUsers serves GET /api/v2/users: every user of the token's
// account, whatever campaign_id says (the documented quirk).
func (s *Server) handleListUsers(ex *exchange) {
	q := ex.r.URL.Query()
	ex.rec.CampaignID = q.Get("campaign_id")
	perPage := defaultPerPage
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			ex.fail(http.StatusUnprocessableEntity, "The per page must be an integer.", map[string]string{"per_page": "The per page must be an integer."})
			return
		case n < 1:
			ex.fail(http.StatusUnprocessableEntity, "The per page must be at least 1.", map[string]string{"per_page": "The per page must be at least 1."})
			return
		case n > maxPerPage:
			ex.fail(http.StatusUnprocessableEntity, "The per page may not be greater than 250.", map[string]string{"per_page": "The per page may not be greater than 250."})
			return
		}
		perPage = n
	}
	// Like Laravel's paginator, a missing or unusable page is page 1.
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	ex.rec.Page, ex.rec.PerPage = page, perPage
	users, total := s.accountPage(ex.account.ID, page, perPage)
	ex.json(http.StatusOK, usersPage{Data: users, Meta: s.meta(ex, page, perPage, len(users), total),
		Links: s.links(ex, page, perPage, total)})
}

// accountPage returns one page of the account's users in Options.Order.
func (s *Server) accountPage(accountID int64, page, perPage int) ([]apiUser, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*user
	for _, u := range s.users {
		if u.accountID == accountID {
			all = append(all, u)
		}
	}
	total := len(all)
	out := []apiUser{}
	for i := (page - 1) * perPage; i < page*perPage && i < total; i++ {
		j := i
		if s.opts.Order == NewestFirst {
			j = total - 1 - i
		}
		out = append(out, toAPIUser(&all[j].User))
	}
	return out, total
}

func lastPage(total, perPage int) int {
	if total == 0 {
		return 1
	}
	return (total + perPage - 1) / perPage
}

func (s *Server) meta(ex *exchange, page, perPage, n, total int) pageMeta {
	m := pageMeta{CurrentPage: page, LastPage: lastPage(total, perPage), Path: s.listURL(ex),
		PerPage: perPage, Total: total}
	if n > 0 {
		from, to := (page-1)*perPage+1, (page-1)*perPage+n
		m.From, m.To = &from, &to
	}
	return m
}

// links point at the other pages. They keep per_page (and any other query
// parameter), which is an assumption: a caller should page by number.
func (s *Server) links(ex *exchange, page, perPage, total int) pageLinks {
	last := lastPage(total, perPage)
	at := func(p int) string {
		q := ex.r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		return s.listURL(ex) + "?" + q.Encode()
	}
	l := pageLinks{First: at(1), Last: at(last)}
	if page > 1 {
		prev := at(min(page-1, last))
		l.Prev = &prev
	}
	if page < last {
		next := at(page + 1)
		l.Next = &next
	}
	return l
}

func (s *Server) listURL(ex *exchange) string {
	base := s.URL()
	if base == "" {
		base = "http://" + ex.r.Host
	}
	return strings.TrimRight(base, "/") + (&url.URL{Path: ex.r.URL.Path}).EscapedPath()
}
