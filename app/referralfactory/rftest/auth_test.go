package rftest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPITokenRotationBreaksTheOldToken(t *testing.T) {
	f := newFixture(t, Options{}, 1, 0)
	resp, _ := f.get(t, "/users", f.acct.Token)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	fresh, err := f.s.RotateToken(f.acct.ID)
	require.NoError(t, err)
	resp, body := f.get(t, "/users", f.acct.Token)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "one active token per account")
	assert.EqualValues(t, 401, body["code"])
	assert.Equal(t, "Unauthenticated.", body["message"])
	resp, _ = f.get(t, "/users", fresh)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestAPIRefusesMissingTokensAndNonJSONAccept(t *testing.T) {
	f := newFixture(t, Options{}, 1, 0)
	for name, hdr := range map[string]string{
		"none":        "",
		"basic":       "Basic " + f.acct.Token,
		"wrong token": "Bearer nope",
		"no scheme":   f.acct.Token,
	} {
		resp, _ := call(t, http.MethodGet, f.s.APIBase()+"/users", "", http.Header{"Authorization": {hdr}}, nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
	}
	resp, body := call(t, http.MethodGet, f.s.APIBase()+"/users", f.acct.Token, http.Header{"Accept": {"text/html"}}, nil)
	assert.Equal(t, http.StatusNotAcceptable, resp.StatusCode)
	assert.EqualValues(t, 406, body["code"])
	resp, _ = call(t, http.MethodPost, f.s.APIBase()+"/users/x", f.acct.Token, nil, strings.NewReader("{}"))
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET", resp.Header.Get("Allow"))
	resp, _ = f.get(t, "/webhooks", f.acct.Token)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	for _, r := range f.s.Requests() {
		assert.NotContains(t, r.Path, f.acct.Token)
	}
}
