package thumbnail

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeFile puts data in the file at path with mode 0644, or leaves path
// as it was. It writes a temporary file in the same directory and renames
// it over path, so that a reader sees either the old file or the whole new
// one, and an error never leaves a half-written file behind: the temporary
// file is removed on every failure. The data is not synced to disk;
// a thumbnail is cheap to make again after a crash.
func writeFile(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("thumbnail: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("thumbnail: write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		_ = f.Close()
		return fmt.Errorf("thumbnail: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("thumbnail: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("thumbnail: write %s: %w", path, err)
	}
	return nil
}
