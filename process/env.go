package process

import (
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/deco-go/deco/backend"
)

// Scheme is the DECO_EXECUTOR scheme of this package:
// DECO_EXECUTOR=processes:4 runs every named function on 4 worker
// processes, and DECO_EXECUTOR=processes on runtime.GOMAXPROCS(0) of
// them, without a change to the program beyond importing this package
// and calling [Main]. The executor it makes is shared by all functions,
// never closed, and has an [IdleTimeout] of [EnvIdleTimeout].
const Scheme = "processes"

// EnvIdleTimeout is the IdleTimeout of the executor DECO_EXECUTOR makes:
// nothing closes it, so its workers exit when they have had no call for
// that long, and start again when calls come.
const EnvIdleTimeout = time.Second

func init() {
	backend.RegisterExecutor(Scheme, fromEnv)
}

// fromEnv makes the executor of DECO_EXECUTOR=processes:arg.
func fromEnv(arg string) (backend.Executor, error) {
	n := runtime.GOMAXPROCS(0)
	if arg != "" {
		var err error
		n, err = strconv.Atoi(arg)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a number of workers (want processes:N, N at least 1)", arg)
		}
	}
	return New(n, IdleTimeout(EnvIdleTimeout)), nil
}
