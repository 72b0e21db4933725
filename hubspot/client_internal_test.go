package hubspot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDefaultTimeout: without an HTTP client of its own, a call to HubSpot
// gives up after 30 s instead of hanging.
func TestDefaultTimeout(t *testing.T) {
	assert.Equal(t, 30*time.Second, New(Config{}).http.Timeout)
}
