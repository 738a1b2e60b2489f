package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The command end to end, on a temporary module that uses the real deco:
// standalone (decocheck ./...), with -fix, and as go vet -vettool.
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs go vet: skipped with -short")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "decocheck")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mod := filepath.Join(dir, "mod")
	write(t, filepath.Join(mod, "go.mod"), "module example.com/m\n\ngo 1.25.0\n\nrequire github.com/deco-go/deco v0.0.0\n\nreplace github.com/deco-go/deco => "+root+"\n")
	write(t, filepath.Join(mod, "main.go"), `package main

import (
	"fmt"
	"time"

	"github.com/deco-go/deco"
)

func slow(times map[int]time.Duration, offset int) {
	t0 := time.Now()
	times[offset] = time.Since(t0)
}

func main() {
	times := map[int]time.Duration{}
	slow, wait := deco.Concurrent(func(i int) { slow(times, i) }).Split()
	for i := range 10 {
		slow(i)
	}
	wait()
	fmt.Println(len(times))
}
`)
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off")
	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = mod, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	want := "main.go:12:2: shared-write: times[offset] = time.Since(t0) writes the map times"

	out, err := run(bin, "./...")
	if err == nil || !strings.Contains(out, want) {
		t.Fatalf("decocheck ./...: err = %v, want a failure reporting %q; output:\n%s", err, want, out)
	}
	out, err = run("go", "vet", "-vettool="+bin, "./...")
	if err == nil || !strings.Contains(out, want) {
		t.Fatalf("go vet -vettool: err = %v, want a failure reporting %q; output:\n%s", err, want, out)
	}
	// Only decocheck's diagnostic: vet's own analyzers do not run with -vettool.
	if n := strings.Count(out, ".go:"); n != 1 {
		t.Fatalf("go vet -vettool reported %d diagnostics, want 1:\n%s", n, out)
	}

	// -fix applies the rewrite to a *deco.Map; the program is then clean
	// and still builds.
	if out, err := run(bin, "-fix", "./..."); err != nil && !strings.Contains(out, "shared-write") {
		t.Fatalf("decocheck -fix: %v\n%s", err, out)
	}
	src, err := os.ReadFile(filepath.Join(mod, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"times.Set(offset, time.Since(t0))", "func slow(times *deco.Map[int, time.Duration], offset int)", "times := new(deco.Map[int, time.Duration])", "times.Len()"} {
		if !strings.Contains(string(src), s) {
			t.Fatalf("after -fix, main.go lacks %q:\n%s", s, src)
		}
	}
	if out, err := run(bin, "./..."); err != nil || out != "" {
		t.Fatalf("decocheck after -fix: err = %v, output:\n%s", err, out)
	}
	if out, err := run("go", "vet", "-vettool="+bin, "./..."); err != nil {
		t.Fatalf("go vet -vettool after -fix: %v\n%s", err, out)
	}
	if out, err := run("go", "build", "./..."); err != nil {
		t.Fatalf("go build after -fix: %v\n%s", err, out)
	}
}

func write(t *testing.T, name, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(text), 0o666); err != nil {
		t.Fatal(err)
	}
}
