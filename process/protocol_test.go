package process_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/deco-go/deco/backend"
	"github.com/deco-go/deco/process"
)

// A worker started by another version of the protocol refuses to serve.
func TestAWorkerOfAnotherProtocolExits(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), backend.EnvWorker+"=deco-process/0")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(string(out), `protocol "deco-process/0"`) {
		t.Fatalf("err = %v, output %q: want a non-zero exit naming the protocol", err, out)
	}
}

// A binary that does not serve — here one that exits at once, as a
// program whose main does not call process.Main would after running — is
// reported by the call, and again until Close.
func TestAWorkerThatDoesNotServeFailsTheCall(t *testing.T) {
	e := process.New(1, process.Stderr(testLog))
	var pids pidSet
	use(t, e, &pids)
	process.SetExecutable(e, "/bin/true")
	for range 2 {
		_, err := e.Execute(t.Context(), "test.pidOf", nil)
		var se *process.StartError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "process.Main()") {
			t.Fatalf("err = %v, want a StartError pointing at process.Main", err)
		}
	}
	if err := e.Start(); err == nil {
		t.Fatal("Start after a failed start: no error")
	}
}
