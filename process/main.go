package process

import (
	"fmt"
	"os"
	"strings"

	"github.com/deco-go/deco/backend"
)

// Main turns this process into a worker if an [Executor] started it as
// one, and otherwise returns at once, having done nothing. Call it first
// thing in main, before flags are parsed or anything is printed, and in
// TestMain before m.Run for tests whose functions run on workers:
//
//	func main() {
//		process.Main()
//		// the program, which workers never run
//	}
//
//	func TestMain(m *testing.M) {
//		process.Main()
//		os.Exit(m.Run())
//	}
//
// In a worker, Main never returns: it calls [backend.MarkWorker] (so that
// calls the worker's tasks make run in the worker itself: a worker never
// starts workers of its own), removes the worker marker from the
// environment (so that programs the tasks start are not workers), serves
// the calls its parent sends, one at a time, and exits when the parent
// closes its end of the pipes — at [Executor.Close], when the parent
// exits, or when it dies (on Linux a parent-death signal also kills it).
// A worker runs package initialisation, as every Go process does, and then
// only the decorated functions it is sent: the rest of main never runs in
// it. Functions that run on workers must therefore be decorated at package
// level, by variables initialised before main.
//
// A DECO_WORKER value that is a URL (nats://host:4222) belongs to another
// executor's workers: Main returns at once and leaves it to that
// executor's Main.
//
// Cost in a process that is not a worker: one environment lookup.
func Main() {
	v, ok := os.LookupEnv(backend.EnvWorker)
	if !ok {
		return
	}
	if strings.Contains(v, "://") {
		// A worker of another executor (DECO_WORKER=nats://host:4222, the
		// cluster's): not ours to serve, so the order of the Main calls at
		// the top of main does not matter.
		return
	}
	if v != protocolVersion {
		fmt.Fprintf(os.Stderr, "deco/process: this program was started as a worker of protocol %q, but it speaks %q: is the parent another build of the program?\n", v, protocolVersion)
		os.Exit(exitProtocol)
	}
	os.Unsetenv(backend.EnvWorker)
	backend.MarkWorker() // already set from the environment; kept after Unsetenv
	os.Exit(serve())
}

// exitProtocol is a worker's exit status when it cannot talk to its
// parent; exitTimeout when it ends because a call ran past its timeout.
const (
	exitProtocol = 86
	exitTimeout  = 87
)

// envMaxMessage passes MaxMessage to a worker; envReplies the number of
// its results pipes, the window (Pipeline).
const (
	envMaxMessage = "DECO_PROCESS_MAX_MESSAGE"
	envReplies    = "DECO_PROCESS_REPLIES"
)
