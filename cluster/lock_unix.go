//go:build unix

package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock of dir, so that two embedded servers
// never share one store; the lock goes with the process.
func lockDir(dir string) (*os.File, error) {
	p := filepath.Join(dir, "deco.lock")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cluster: locking the embedded server's folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("cluster: the folder %s is in use by another embedded server (another run of this program?): give this one its own with cluster.Dir", dir)
	}
	return f, nil
}
