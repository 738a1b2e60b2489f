package demo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// entries lists the names in dir, sorted.
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

func TestOpenOutputDefaultIsNewTempFolder(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	o, err := openOutput("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(o.dir, os.TempDir()) || !strings.Contains(filepath.Base(o.dir), "deco-demo-") {
		t.Errorf("default folder %s is not a deco-demo folder under %s", o.dir, os.TempDir())
	}
	if _, err := o.mkdir("thumbnails"); err != nil {
		t.Fatal(err)
	}
	o.discard()
	if _, err := os.Stat(o.dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("discard left %s: %v", o.dir, err)
	}
}

func TestOpenOutputKeep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	o, err := openOutput(dir)
	if err != nil {
		t.Fatal(err)
	}
	o.keep()
	o.discard() // after keep: nothing happens
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("kept folder is gone: %v", err)
	}
}

func TestOpenOutputCreatesMissingParentsAndRemovesThem(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b", "c")
	o, err := openOutput(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("folder not created: %v", err)
	}
	if err := writeFiles(file{o.path("x.txt"), []byte("x")}); err != nil {
		t.Fatal(err)
	}
	o.discard()
	if got := entries(t, base); len(got) != 0 {
		t.Errorf("discard left %q in %s", got, base)
	}
}

func TestDiscardInExistingFolderRemovesOnlyWhatTheRunAdded(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"mine.txt", "photo.jpg"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o, err := openOutput(dir)
	if err != nil {
		t.Fatal(err)
	}
	thumbs, err := o.mkdir("thumbnails")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(thumbs, "0.jpg"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"photo.jpg", "trace.json"} {
		o.note(o.path(name))
		if err := writeFiles(file{o.path(name), []byte("new")}); err != nil {
			t.Fatal(err)
		}
	}
	o.discard()
	if got, want := entries(t, dir), []string{"mine.txt", "photo.jpg"}; !slices.Equal(got, want) {
		t.Errorf("after discard %s holds %q, want %q", dir, got, want)
	}
}

func TestOpenOutputRefusesWhatIsNotAFolder(t *testing.T) {
	base := t.TempDir()
	f := filepath.Join(base, "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{f, filepath.Join(f, "sub")} {
		_, err := openOutput(dir)
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("openOutput(%s) = %v, want an error naming it", dir, err)
		}
		if strings.Count(err.Error(), dir) > 1 {
			t.Errorf("error names the folder twice: %v", err)
		}
	}
	if got := entries(t, base); !slices.Equal(got, []string{"file"}) {
		t.Errorf("failed opens left %q", got)
	}
}

func TestOpenOutputRefusesReadOnlyFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	if checkWritable(dir) == nil {
		t.Skip("running as a user who may write anywhere (root)")
	}
	if _, err := openOutput(dir); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("openOutput(read-only) = %v, want 'not writable'", err)
	}
}

func TestWriteFilesAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "missing", "bad.svg")
	err := writeFiles(file{good, []byte("{}")}, file{bad, []byte("<svg/>")})
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("writeFiles = %v, want an error naming %s", err, bad)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("failed writeFiles left %q", got)
	}

	// An existing file is replaced whole, and kept when the write fails.
	if err := os.WriteFile(good, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeFiles(file{good, []byte("new")}, file{bad, nil}); err == nil {
		t.Fatal("no error")
	}
	if b, _ := os.ReadFile(good); string(b) != "old" {
		t.Errorf("failed write changed the existing file to %q", b)
	}
	if err := writeFiles(file{good, []byte("new")}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(good); string(b) != "new" {
		t.Errorf("file holds %q, want new", b)
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"good.json"}) {
		t.Errorf("folder holds %q", got)
	}
}

func TestCheckFileTarget(t *testing.T) {
	dir := t.TempDir()
	if err := checkFileTarget("svg", filepath.Join(dir, "t.svg")); err != nil {
		t.Errorf("writable target: %v", err)
	}
	for _, path := range []string{dir, filepath.Join(dir, "nope", "t.svg")} {
		if err := checkFileTarget("svg", path); err == nil || !strings.HasPrefix(err.Error(), "-svg "+path) {
			t.Errorf("checkFileTarget(%s) = %v, want an error naming -svg and the path", path, err)
		}
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("checks left %q", got)
	}
}
