package pages

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/oauth"
)

// SignIn is the sign-in page: a link to install refhub in HubSpot, which
// signs the user in and comes back to ?return_to= (a path of this app
// only).
func (h *Pages) SignIn(c *gin.Context) error {
	h.render(c, http.StatusOK, "signin.html", page{Title: "Sign in", Data: map[string]string{
		"ReturnTo": oauth.LocalReturnTo(c.Query("return_to"))}})
	return nil
}

// SignOut ends the session.
func (h *Pages) SignOut(c *gin.Context) error {
	h.Sessions.SignOut(c.Request.Context(), c.Writer, auth.PrincipalOf(c).SessionID)
	c.Redirect(http.StatusSeeOther, "/app/signin")
	return nil
}
