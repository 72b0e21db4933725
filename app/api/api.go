// Package api is refhub's JSON API (/api/v1), one file per resource. Each
// handler is thin: parse the request, call the workspace operation,
// render. The resource a route names is loaded and authorized against the
// caller's workspace before the handler runs (web.Loader), and errors are
// answered by the error middleware. openapi.json beside it documents every
// route.
package api

import (
	_ "embed"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/app/privacy"
	"github.com/refhub/refhub/app/qualify"
	"github.com/refhub/refhub/app/workspace"
)

// MaxAPIBody bounds JSON API request bodies.
const MaxAPIBody = 256 << 10

//go:embed openapi.json
var openAPIDoc []byte

// Handlers serve the JSON API.
type Handlers struct {
	ws      *workspace.Service
	bf      *backfill.Service
	qualify *qualify.Settings
	privacy *privacy.Service
}

// New returns the API's handlers over the workspace operations, the
// backfills, the qualification settings and privacy deletions.
func New(ws *workspace.Service, bf *backfill.Service, q *qualify.Settings, p *privacy.Service) *Handlers {
	return &Handlers{ws: ws, bf: bf, qualify: q, privacy: p}
}

// OpenAPI serves the API's description.
func (h *Handlers) OpenAPI(c *gin.Context) error {
	c.Data(http.StatusOK, "application/json", openAPIDoc)
	return nil
}

// decodeJSON reads a bounded JSON body into v, refusing unknown fields.
func decodeJSON(c *gin.Context, v any) error {
	if ct := c.ContentType(); ct != "application/json" {
		return apperr.New(apperr.Unsupported, "send the body as application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, MaxAPIBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "the body is too large")
		}
		return &apperr.Error{Code: apperr.Invalid, Message: "the body is not the expected JSON: " + err.Error()}
	}
	return nil
}

// decodeOptionalJSON is decodeJSON for a body that may be left out.
func decodeOptionalJSON(c *gin.Context, v any) error {
	if c.Request.ContentLength == 0 {
		return nil
	}
	return decodeJSON(c, v)
}

// reply renders v as JSON with status, or returns err.
func reply(c *gin.Context, status int, v any, err error) error {
	if err != nil {
		return err
	}
	c.JSON(status, v)
	return nil
}
