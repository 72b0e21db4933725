package app

import (
	"net/http"
	"net/http/httptest"
)

// cookieRecorder is a ResponseWriter that keeps the cookies set on it.
type cookieRecorder struct{ httptest.ResponseRecorder }

func (c *cookieRecorder) Header() http.Header {
	if c.HeaderMap == nil {
		c.HeaderMap = http.Header{}
	}
	return c.HeaderMap
}

func (c *cookieRecorder) value(name string) string {
	for _, ck := range (&http.Response{Header: c.HeaderMap}).Cookies() {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}
