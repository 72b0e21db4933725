package delivery_test

import (
	"os"
	"testing"

	"github.com/refhub/refhub/internal/redistest"
)

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		os.Exit(runWorkerProcess())
	}
	redistest.Main(m)
}
