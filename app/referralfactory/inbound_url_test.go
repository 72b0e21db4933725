package referralfactory_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/app/referralfactory/rftest"
)

func TestValidateInboundURL(t *testing.T) {
	c, err := referralfactory.New(referralfactory.Config{})
	require.NoError(t, err)
	const tok = "SeCrEt_Tok-3n"
	ok := []string{
		"https://referral-factory.com/webhook/" + tok + "/qualify",
		"https://Referral-Factory.COM/webhook/" + tok + "/qualify",
	}
	for _, u := range ok {
		_, err := c.ValidateInboundURL(u)
		assert.NoError(t, err, u)
	}
	refused := map[string]string{
		"empty":                     "",
		"http":                      "http://referral-factory.com/webhook/" + tok + "/qualify",
		"other host":                "https://evil.example/webhook/" + tok + "/qualify",
		"userinfo trick":            "https://referral-factory.com@evil.example/webhook/" + tok + "/qualify",
		"userinfo before real host": "https://evil.example@referral-factory.com/webhook/" + tok + "/qualify",
		"user and password":         "https://u:p@referral-factory.com/webhook/" + tok + "/qualify",
		"explicit port 443":         "https://referral-factory.com:443/webhook/" + tok + "/qualify",
		"other port":                "https://referral-factory.com:8443/webhook/" + tok + "/qualify",
		"trailing dot host":         "https://referral-factory.com./webhook/" + tok + "/qualify",
		"suffix host":               "https://referral-factory.com.evil.example/webhook/" + tok + "/qualify",
		"prefix host":               "https://evilreferral-factory.com/webhook/" + tok + "/qualify",
		"lookalike host":            "https://referral-factоry.com/webhook/" + tok + "/qualify",
		"ip host":                   "https://127.0.0.1/webhook/" + tok + "/qualify",
		"ipv6 host":                 "https://[::1]/webhook/" + tok + "/qualify",
		"query":                     "https://referral-factory.com/webhook/" + tok + "/qualify?x=1",
		"empty query":               "https://referral-factory.com/webhook/" + tok + "/qualify?",
		"fragment":                  "https://referral-factory.com/webhook/" + tok + "/qualify#x",
		"dot-dot token":             "https://referral-factory.com/webhook/../qualify",
		"traversal":                 "https://referral-factory.com/webhook/" + tok + "/../../api/v2/qualify",
		"traversal inside":          "https://referral-factory.com/webhook/a/../" + tok + "/qualify",
		"encoded slash":             "https://referral-factory.com/webhook/a%2Fb/qualify",
		"encoded dots":              "https://referral-factory.com/webhook/%2e%2e/qualify",
		"encoded letter":            "https://referral-factory.com/webhook/%53eCrEt/qualify",
		"trailing slash":            "https://referral-factory.com/webhook/" + tok + "/qualify/",
		"double slash":              "https://referral-factory.com//webhook/" + tok + "/qualify",
		"empty token":               "https://referral-factory.com/webhook//qualify",
		"other path":                "https://referral-factory.com/api/v2/users",
		"other action":              "https://referral-factory.com/webhook/" + tok + "/unqualify",
		"leading space":             " https://referral-factory.com/webhook/" + tok + "/qualify",
		"newline":                   "https://referral-factory.com/webhook/" + tok + "/qualify\n",
		"backslash":                 "https://referral-factory.com\\@evil.example/webhook/" + tok + "/qualify",
		"scheme-relative":           "//referral-factory.com/webhook/" + tok + "/qualify",
		"opaque":                    "https:referral-factory.com/webhook/" + tok + "/qualify",
		"javascript":                "javascript:alert(1)",
		"nul":                       "https://referral-factory.com/webhook/" + tok + "/qualify\x00",
		"token with dot":            "https://referral-factory.com/webhook/a.b/qualify",
		"very long token":           "https://referral-factory.com/webhook/" + strings.Repeat("a", 201) + "/qualify",
	}
	for name, u := range refused {
		_, err := c.ValidateInboundURL(u)
		var ie *referralfactory.InboundURLError
		if assert.ErrorAs(t, err, &ie, name) {
			assert.NotContains(t, err.Error(), tok, "%s: the token is not quoted", name)
		}
		assert.ErrorAs(t, c.Qualify(context.Background(), u, "CODE"), &ie, name)
	}
}

// With a simulator base (http, a port), only that exact scheme, host and
// port pass, and nothing refused reaches it.
func TestInboundURLUnderALocalBase(t *testing.T) {
	e := newEnv(t, rftest.Options{})
	good := e.sim.InboundURL(e.acct.ID)
	_, err := e.client.ValidateInboundURL(good)
	require.NoError(t, err)
	token := strings.TrimSuffix(strings.TrimPrefix(good, e.sim.URL()+"/webhook/"), "/qualify")
	host := strings.TrimPrefix(e.sim.URL(), "http://")
	for _, u := range []string{
		"https://" + host + "/webhook/" + token + "/qualify",
		"http://localhost:1/webhook/" + token + "/qualify",
		e.sim.URL() + "/webhook/" + token + "/qualify?code=x",
		e.sim.URL() + "/api/v2/users",
	} {
		assert.Error(t, e.client.Qualify(context.Background(), u, "CODE"), u)
	}
	assert.Empty(t, e.sim.Requests())

	c, err := referralfactory.New(referralfactory.Config{Base: "https://referral-factory.com"})
	require.NoError(t, err)
	_, err = c.ValidateInboundURL(good)
	assert.Error(t, err, "http is only allowed when the base is http")
}
