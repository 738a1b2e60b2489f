package process

// Hooks for the tests of package process_test.

// FromEnv is the factory DECO_EXECUTOR=processes:arg calls.
var FromEnv = fromEnv

// SetExecutable makes e start path as its workers instead of the program.
func SetExecutable(e *Executor, path string) { e.exe, e.exeErr = path, nil }
