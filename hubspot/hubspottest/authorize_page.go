package hubspottest

import (
	"bytes"
	"fmt"
	"html/template"
)

// pageStyle keeps the pages readable and the focus ring visible for
// keyboard users.
const pageStyle = `body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#33475b}
fieldset{border:1px solid #cbd6e2;padding:1rem;margin:1rem 0}
.account{margin:.5rem 0}
button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}
:focus-visible{outline:3px solid #0091ae;outline-offset:2px}
.error{color:#b5000b}`

// consentTemplate is immutable once parsed.
var consentTemplate = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect app to HubSpot</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
<h1>Connect app {{.AppID}} to HubSpot</h1>
<p id="scopes-intro">This app is requesting access to:</p>
<ul aria-labelledby="scopes-intro">{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
<form method="post" action="/oauth/authorize/decision">
<input type="hidden" name="nonce" value="{{.Nonce}}">
<input type="hidden" name="client_id" value="{{.Req.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.Req.RedirectURI}}">
<input type="hidden" name="scope" value="{{.Req.Scope}}">
<input type="hidden" name="optional_scope" value="{{.Req.OptionalScope}}">
<input type="hidden" name="state" value="{{.Req.State}}">
<fieldset>
<legend>Choose an account</legend>
{{range $i, $a := .Accounts}}<div class="account"><input type="radio" name="account" id="{{$a.ID}}" value="{{$a.Value}}"{{if eq $i 0}} checked{{end}}> <label for="{{$a.ID}}">{{$a.Label}}</label></div>
{{else}}<p>No test portals are set up, so there is nothing to connect.</p>
{{end}}</fieldset>
<button type="submit" id="approve" name="decision" value="approve"{{if not .Accounts}} disabled{{end}}>Approve</button>
<button type="submit" id="deny" name="decision" value="deny">Deny</button>
</form>
</main>
</body>
</html>
`))

// errorTemplate renders HubSpot-style install errors (which never redirect).
var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorization error</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
<h1>Couldn't complete the connection</h1>
<p class="error" id="error" role="alert">{{.}}</p>
</main>
</body>
</html>
`))

// consentAccount is one radio button of the consent page.
type consentAccount struct {
	ID, Value, Label string
}

func renderConsent(req authorizeRequest, nonce string, portals []Portal, appID int64) []byte {
	var accounts []consentAccount
	for _, p := range portals {
		for _, u := range p.Users {
			accounts = append(accounts, consentAccount{
				ID:    fmt.Sprintf("portal-%d-user-%d", p.HubID, u.ID),
				Value: fmt.Sprintf("%d:%d", p.HubID, u.ID),
				Label: fmt.Sprintf("Portal %d — %s, as %s", p.HubID, p.Domain, u.Email),
			})
		}
	}
	data := struct {
		AppID    int64
		Nonce    string
		Req      authorizeRequest
		Scopes   []string
		Accounts []consentAccount
	}{appID, nonce, req, req.granted, accounts}
	return execute(consentTemplate, data)
}

func renderError(msg string) []byte { return execute(errorTemplate, msg) }

func execute(t *template.Template, data any) []byte {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return []byte("hubspottest: template error: " + template.HTMLEscapeString(err.Error()))
	}
	return buf.Bytes()
}
