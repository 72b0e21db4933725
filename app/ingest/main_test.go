package ingest_test

import (
	"strconv"
	"testing"

	"github.com/refhub/refhub/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
