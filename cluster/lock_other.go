//go:build !unix

package cluster

import (
	"os"
	"path/filepath"
)

// lockDir does not lock on this system: do not point two embedded servers
// at one folder.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "deco.lock"), os.O_CREATE|os.O_RDWR, 0o600)
}
