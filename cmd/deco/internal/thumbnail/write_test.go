package thumbnail

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestWriteFileCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.jpg")
	for _, content := range []string{"first version", "second"} {
		if err := writeFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("file holds %q, want %q", got, content)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o644 {
		t.Errorf("mode %v, want 0644", mode)
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "a.jpg" {
		t.Errorf("directory holds %q, want only a.jpg", names)
	}
}

func TestWriteFileRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := writeFile("rel.jpg", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if names := entries(t, "."); len(names) != 1 || names[0] != "rel.jpg" {
		t.Errorf("directory holds %q, want only rel.jpg", names)
	}
}

func TestWriteFileErrorsLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "taken")
	if err := os.Mkdir(blocker, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		filepath.Join(dir, "missing", "a.jpg"), // no such directory
		blocker,                                // a directory is in the way
		blocker + string(filepath.Separator),   // a path naming a directory
	} {
		err := writeFile(path, []byte("data"))
		if err == nil {
			t.Errorf("writeFile(%q) succeeded", path)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the path %q", err, path)
		}
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "taken" {
		t.Errorf("directory holds %q after the failures, want only taken", names)
	}
	if names := entries(t, blocker); len(names) != 0 {
		t.Errorf("blocking directory holds %q, want nothing", names)
	}
}
