package backend

import (
	"testing"

	"github.com/deco-go/deco/internal/registry"
)

// The variable backends set is the one deco reads at start-up.
func TestEnvWorkerIsTheOneDecoReads(t *testing.T) {
	if EnvWorker != registry.EnvWorker {
		t.Fatalf("backend.EnvWorker = %q, but deco reads %q", EnvWorker, registry.EnvWorker)
	}
}
