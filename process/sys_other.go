//go:build !unix

package process

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// errUnsupported is the StartError's cause on systems without the pipes
// and file descriptors workers need.
var errUnsupported = fmt.Errorf("process: worker processes are not supported on %s (they need Unix pipes passed as file descriptors)", runtime.GOOS)

func supported() error { return errUnsupported }

func sysProcAttr() *syscall.SysProcAttr { return nil }

func blockingPipe() (r, w *os.File, err error) { return nil, nil, errUnsupported }

func newStartedWord() (*os.File, []byte, error) { return nil, nil, errUnsupported }

func mapStartedWord(int) ([]byte, error) { return nil, errUnsupported }

func unmap([]byte) {}

func openPipe(int, bool) (*os.File, error) { return nil, errors.New(errUnsupported.Error()) }

func setNonblock(uintptr, bool) error { return errUnsupported }

func dupNonblock(uintptr) (int, error) { return -1, errUnsupported }
