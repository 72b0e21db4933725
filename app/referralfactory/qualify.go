package referralfactory

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// maxCodeLen bounds a referral or coupon code sent to an inbound webhook.
const maxCodeLen = 200

// inboundToken is the token segment of an inbound webhook path: letters,
// digits, "-" and "_" only, so no "." (traversal), "%" (encoded slashes)
// or "/" can reshape the path.
var inboundToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// InboundURLError is an inbound webhook URL refused before any request.
// Reason never quotes the URL: its token is the customer's secret.
type InboundURLError struct{ Reason string }

func (e *InboundURLError) Error() string {
	return "referralfactory: inbound webhook URL refused: " + e.Reason
}

// ValidateInboundURL checks that raw is an inbound qualify webhook under the
// client's Base: the same scheme and host (no port unless Base has it, no
// credentials), path {Base path}/webhook/{token}/qualify with nothing
// encoded, no query and no fragment. It is the only check between a
// tenant's input and an outgoing request, so it refuses rather than
// repairs.
func (c *Client) ValidateInboundURL(raw string) (*url.URL, error) {
	refuse := func(reason string) (*url.URL, error) { return nil, &InboundURLError{Reason: reason} }
	if raw == "" {
		return refuse("empty")
	}
	if strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\\' }) >= 0 {
		return refuse("contains spaces, control characters or backslashes")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return refuse("not an absolute URL")
	}
	if u.Scheme != c.base.Scheme {
		return refuse("must start with " + c.base.Scheme + "://")
	}
	if u.User != nil {
		return refuse("must not carry a user name or password")
	}
	if !strings.EqualFold(u.Host, c.base.Host) {
		return refuse("must be on " + c.base.Host + " (no other host or port)")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "" {
		return refuse("must not have a query string or fragment")
	}
	prefix := strings.TrimRight(c.base.EscapedPath(), "/") + "/webhook/"
	p := u.EscapedPath()
	token, ok := strings.CutPrefix(p, prefix)
	if ok {
		token, ok = strings.CutSuffix(token, "/qualify")
	}
	if !ok || !inboundToken.MatchString(token) {
		return refuse("path must be " + prefix + "{token}/qualify")
	}
	return u, nil
}

// Qualify qualifies the referral whose code (the lead's unique code or
// coupon code) is given, by posting it form-encoded to the customer's
// inbound webhook, as Referral Factory documents:
// POST https://referral-factory.com/webhook/{token}/qualify with code=...
// Any 2xx is success; Referral Factory qualifies a referral only once, so
// repeating a call after an unclear outcome does no harm there.
func (c *Client) Qualify(ctx context.Context, inboundURL, code string) error {
	u, err := c.ValidateInboundURL(inboundURL)
	if err != nil {
		return err
	}
	code = strings.TrimSpace(code)
	if code == "" || len(code) > maxCodeLen || strings.IndexFunc(code, unicode.IsControl) >= 0 {
		return &ValidationError{&APIError{Message: "code must be 1 to 200 printable characters"}}
	}
	form := url.Values{"code": {code}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return &InboundURLError{Reason: "cannot build a request"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err = c.send(req, "qualify", c.redactInbound)
	return err
}

// redactInbound replaces the inbound URL quoted by a transport error with
// one whose token is hidden, keeping the cause for errors.Is.
func (c *Client) redactInbound(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: strings.TrimRight(c.base.String(), "/") + "/webhook/{token}/qualify", Err: ue.Err}
	}
	return err
}
