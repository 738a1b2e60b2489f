package demo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// output is the folder a run writes into, and what the run has created
// there, so that a failed run leaves nothing behind: a folder the run made
// is removed whole; in a folder that was there before, only the entries the
// run added are removed. Files are written whole or not at all (see
// writeFiles), so an entry that was there before is never left
// half-written either.
type output struct {
	dir    string   // absolute
	top    string   // the topmost folder the run created for dir, or ""
	added  []string // entries added inside an existing dir, in creation order
	closed bool
}

// openOutput prepares the output folder dir, or a new folder under
// os.TempDir() when dir is "". It creates dir (and its missing parents) if
// needed and checks that files can be written there.
func openOutput(dir string) (*output, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "deco-demo-")
		if err != nil {
			return nil, fmt.Errorf("output folder: %w", err)
		}
		return &output{dir: d, top: d}, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("output folder %s: %w", dir, err)
	}
	o := &output{dir: abs}
	switch fi, err := os.Stat(abs); {
	case err == nil && !fi.IsDir():
		return nil, fmt.Errorf("output folder %s is not a folder", dir)
	case errors.Is(err, fs.ErrNotExist):
		o.top = topMissing(abs)
		if err := os.MkdirAll(abs, 0o755); err != nil {
			o.discard()
			return nil, fmt.Errorf("output folder %s: %w", dir, unwrapPath(err))
		}
	case err != nil:
		return nil, fmt.Errorf("output folder %s: %w", dir, unwrapPath(err))
	}
	if err := checkWritable(abs); err != nil {
		o.discard()
		return nil, fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	return o, nil
}

// topMissing returns the topmost ancestor of path (or path itself) that does
// not exist: the folder that os.MkdirAll(path) creates first.
func topMissing(path string) string {
	top := path
	for p := filepath.Dir(path); p != top; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			break // exists, or cannot tell: never remove it
		}
		top = p
	}
	return top
}

// checkWritable creates and removes a file in dir.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".deco-demo-check-*")
	if err != nil {
		return unwrapPath(err)
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}

// unwrapPath drops the *fs.PathError around err, whose path the caller
// names already, so that messages do not say it twice.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// path returns the path of name inside the output folder.
func (o *output) path(name string) string { return filepath.Join(o.dir, name) }

// note records that the run is about to create path, unless it exists,
// so that discard removes it.
func (o *output) note(path string) {
	if o.top != "" {
		return // everything goes with the folder
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) && !slices.Contains(o.added, path) {
		o.added = append(o.added, path)
	}
}

// mkdir creates the folder name inside the output folder, if it is not
// there, and returns its path.
func (o *output) mkdir(name string) (string, error) {
	p := o.path(name)
	o.note(p)
	if err := os.MkdirAll(p, 0o755); err != nil {
		return "", fmt.Errorf("create folder %s: %w", p, unwrapPath(err))
	}
	return p, nil
}

// keep ends the output's bookkeeping: what the run wrote stays.
func (o *output) keep() { o.closed = true }

// discard removes what the run created. It is a no-op after keep.
func (o *output) discard() {
	if o.closed {
		return
	}
	o.closed = true
	if o.top != "" {
		_ = os.RemoveAll(o.top)
		return
	}
	for _, p := range slices.Backward(o.added) {
		_ = os.RemoveAll(p)
	}
}

// file is a file to write: its path and contents.
type file struct {
	path string
	data []byte
}

// writeFiles writes every file whole or none of them: each goes to a
// temporary file beside its path first, and the temporary files are renamed
// into place only once all are written. On error, the temporary files and
// any file already renamed into place where there was none before are
// removed.
func writeFiles(files ...file) (err error) {
	type pending struct {
		file
		tmp     string
		existed bool
		placed  bool
	}
	ps := make([]*pending, 0, len(files))
	defer func() {
		if err == nil {
			return
		}
		for _, p := range ps {
			if p.placed && !p.existed {
				_ = os.Remove(p.path)
			} else if !p.placed {
				_ = os.Remove(p.tmp)
			}
		}
	}()
	for _, f := range files {
		tmp, err := writeTemp(f.path, f.data)
		if err != nil {
			return err
		}
		_, statErr := os.Lstat(f.path)
		ps = append(ps, &pending{file: f, tmp: tmp, existed: statErr == nil})
	}
	for _, p := range ps {
		if err := os.Rename(p.tmp, p.path); err != nil {
			return fmt.Errorf("write %s: %w", p.path, unwrapLink(err))
		}
		p.placed = true
	}
	return nil
}

// writeTemp writes data to a new temporary file in path's folder and
// returns its name; on error it leaves no file.
func writeTemp(path string, data []byte) (string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	return f.Name(), nil
}

// unwrapLink drops the *os.LinkError around a rename's error.
func unwrapLink(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// checkFileTarget reports whether a file can later be written at path:
// its folder exists and is writable, and path is not a folder.
func checkFileTarget(flag, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("-%s %s is a folder, not a file", flag, path)
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("-%s %s: folder %s: %w", flag, path, dir, unwrapPath(err))
	} else if !fi.IsDir() {
		return fmt.Errorf("-%s %s: %s is not a folder", flag, path, dir)
	}
	if err := checkWritable(dir); err != nil {
		return fmt.Errorf("-%s %s: folder %s is not writable: %w", flag, path, dir, err)
	}
	return nil
}
