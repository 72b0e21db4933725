package deals_test

import (
	"testing"

	"github.com/refhub/refhub/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }
