package rftest

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
)

// maxInboundBody bounds an inbound webhook body.
const maxInboundBody = 64 << 10

// handleQualify serves POST /webhook/{token}/qualify, the inbound webhook
// Referral Factory documents for qualifying a referred user "by sending
// their unique code or coupon code": curl -X POST -d "code={code}".
//
// Its answers are not documented; these are assumed: 200 when the lead is
// qualified or already was (a referral qualifies once), 404 for an unknown
// token, 422 in the API's error shape when code is missing, matches no user
// of the account, or names a person referring. Unlike the API, the inbound
// webhook takes no Bearer token and no rate limit is documented for it.
func (s *Server) handleQualify(ex *exchange) {
	s.mu.Lock()
	accountID, ok := s.inbound[ex.r.PathValue("token")]
	s.mu.Unlock()
	if !ok {
		ex.fail(http.StatusNotFound, "Not Found", nil)
		return
	}
	ex.rec.AccountID = accountID
	code := strings.TrimSpace(inboundCode(ex))
	if code == "" {
		ex.fail(http.StatusUnprocessableEntity, "The code field is required.", map[string]string{"code": "The code field is required."})
		return
	}
	s.mu.Lock()
	u := s.byInboundCodeLocked(accountID, code)
	var sends []send
	var err error
	if u != nil {
		sends, err = s.qualifyLocked(u)
	}
	s.mu.Unlock()
	switch {
	case u == nil:
		ex.fail(http.StatusUnprocessableEntity, "The selected code is invalid.", map[string]string{"code": "The selected code is invalid."})
		return
	case err != nil:
		ex.fail(http.StatusUnprocessableEntity, "Only referred users can be qualified.", map[string]string{"code": "Only referred users can be qualified."})
		return
	}
	s.deliver(sends)
	ex.json(http.StatusOK, map[string]any{"code": http.StatusOK, "message": "User qualified."})
}

// inboundCode reads code from a form body (what Referral Factory shows) or
// a JSON body; anything else carries no code.
func inboundCode(ex *exchange) string {
	ex.r.Body = http.MaxBytesReader(ex.w, ex.r.Body, maxInboundBody)
	mt, _, _ := mime.ParseMediaType(ex.r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := ex.r.ParseMultipartForm(maxInboundBody); err != nil && err != http.ErrNotMultipart {
			return ""
		}
		return ex.r.PostForm.Get("code")
	case "application/json":
		var body struct {
			Code json.RawMessage `json:"code"`
		}
		if json.NewDecoder(ex.r.Body).Decode(&body) != nil {
			return ""
		}
		var code string
		_ = json.Unmarshal(body.Code, &code) // a code that is not a string is no code
		return code
	}
	return ""
}

// byInboundCodeLocked finds the account's user whose unique code or coupon
// code this is. Codes are unique across the simulator, as referral links
// need them to be.
func (s *Server) byInboundCodeLocked(accountID int64, code string) *user {
	if u := s.byCode[code]; u != nil && u.accountID == accountID {
		return u
	}
	return nil
}
