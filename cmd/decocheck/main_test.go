package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	bin := build(t)
	mod := filepath.Join(t.TempDir(), "mod")
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

	// A test that races on purpose, and makes a Static: reported, unless
	// -skiptests.
	write(t, filepath.Join(mod, "race_test.go"), `package main

import (
	"testing"

	"github.com/deco-go/deco"
)

func TestRace(t *testing.T) {
	m := map[int]int{}
	f := deco.Concurrent(func(i int) { m[i] = i })
	f.Go(1)
	f.Wait()
	deco.NewStatic[int]("test.race").Set(1)
}
`)
	out, err = run("go", "vet", "-vettool="+bin, "./...")
	for _, want := range []string{"race_test.go:11:37: shared-write", "race_test.go:14:2: cannot-cross: deco.NewStatic[int](\"test.race\") is called inside TestRace"} {
		if err == nil || !strings.Contains(out, want) {
			t.Fatalf("go vet -vettool on a racing test: err = %v, want %q reported; output:\n%s", err, want, out)
		}
	}
	if out, err := run("go", "vet", "-vettool="+bin, "-skiptests", "./..."); err != nil {
		t.Fatalf("go vet -vettool -skiptests: %v\n%s", err, out)
	}
}

// The project's own examples, written right, get no diagnostic. The built
// command checks them: analysing net/http and x/image from source under
// -race would cost the test package most of a minute on 2 cores.
func TestExamplesAreClean(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command: skipped with -short")
	}
	bin := build(t)
	cmd := exec.Command(bin, "./...")
	cmd.Dir = filepath.Join("..", "..", "examples")
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("decocheck ./... in examples: err = %v, output:\n%s", err, out)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

// build builds the command once for the tests, into a temporary directory
// that TestMain removes.
func build(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "decocheck-test-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "decocheck")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
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
