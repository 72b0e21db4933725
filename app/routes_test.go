package app_test

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
)

// TestRoutesStay: refhub answers exactly the methods and paths of
// testdata/routes.txt. Links in Referral Factory, HubSpot's redirect URI,
// API clients and bookmarks depend on them: a route is only ever added
// on purpose (and then written there), never lost in a reshuffle.
func TestRoutesStay(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	var got []string
	for _, r := range env.App.Handler().(*gin.Engine).Routes() {
		got = append(got, r.Method+" "+r.Path)
	}
	sort.Strings(got)
	raw, err := os.ReadFile("testdata/routes.txt")
	require.NoError(t, err)
	want := strings.Split(strings.TrimSpace(string(raw)), "\n")
	assert.Equal(t, want, got)
}
