package pages

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/privacy"
)

// privacyView is the Privacy page: the forget form and the deletions made.
type privacyView struct {
	Deletions []privacy.Deletion
	Error     string
}

// Privacy shows the forget form and the workspace's deletions.
func (h *Pages) Privacy(c *gin.Context) error {
	return h.renderPrivacy(c, http.StatusOK, privacyView{})
}

func (h *Pages) renderPrivacy(c *gin.Context, status int, v privacyView) error {
	ds, err := h.Erasure.Deletions(c.Request.Context(), auth.PrincipalOf(c).WorkspaceID)
	if err != nil {
		return err
	}
	v.Deletions = ds
	h.render(c, status, "privacy.html", page{Title: "Privacy", Nav: "privacy", Data: v})
	return nil
}

// Forget deletes everything the workspace keeps about one person.
func (h *Pages) Forget(c *gin.Context) error {
	who := auth.PrincipalOf(c)
	d, err := h.Erasure.Forget(c.Request.Context(), who.WorkspaceID, c.PostForm("email"), who.Member.Sees)
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code == apperr.Invalid {
			return h.renderPrivacy(c, http.StatusBadRequest, privacyView{Error: ae.Message})
		}
		return err
	}
	return h.redirectFlash(c, "/app/privacy", "Deleted: "+strconv.Itoa(d.Records)+" records about that person. refhub keeps no copy of the address.", false)
}
