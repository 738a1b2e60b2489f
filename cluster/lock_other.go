//go:build !unix

package cluster

import "os"

// lockDir does not lock on this system: do not point two embedded servers
// at one folder.
func lockDir(dir string) (*os.File, error) {
	return os.CreateTemp(dir, "deco.lock")
}
