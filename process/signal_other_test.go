//go:build !unix

package process_test

import (
	"errors"
	"os"
)

// kill ends process pid.
func kill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

// pause cannot stop a process on this system.
func pause(int) error { return errors.New("stopping a process is not supported on this system") }
