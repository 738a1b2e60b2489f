package demo

import (
	"fmt"

	"github.com/deco-go/deco"
)

// ExecutorLocal runs the thumbnails on goroutines of this process, deco's
// default.
const ExecutorLocal = "local"

// Executors lists the values of -executor.
//
// To add a backend (such as "processes", from github.com/deco-go/deco/process):
// list its name here and return its deco.On option from executorOptions.
// A call that crosses a process boundary must be a named function whose
// argument and result gob-encode, so the thumbnail task then returns its
// time as a result for deco.Assign instead of writing the in-process
// deco.Map (see thumbnails.go).
var Executors = []string{ExecutorLocal}

// executorOptions returns the deco options that put the thumbnail calls on
// the executor called name.
func executorOptions(name string) ([]deco.Option, error) {
	switch name {
	case ExecutorLocal:
		return nil, nil
	}
	return nil, fmt.Errorf("-executor %q is not available", name)
}
