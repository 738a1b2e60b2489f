package analyzer_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/deco-go/deco/cmd/decocheck/analyzer"
	"golang.org/x/tools/go/analysis/analysistest"
)

// testdata is a module that replaces github.com/deco-go/deco with this
// repository's root: the rules are tested against the real package, so a
// change of deco's API that breaks them fails here, and no stub can drift.
const testdata = "testdata"

// Loading and type-checking packages from source is most of a run's cost
// (deco and the standard library it imports, several seconds under -race on
// 2 cores), so the testdata packages are analysed in two runs shared by the
// tests — one without and one with suggested fixes checked against .golden
// files — and each test reports the problems found in its own directory:
// an unexpected diagnostic, or a `// want` that matched none.
var (
	plainPkgs = []string{"./sharedwrite", "./droppederr", "./unwaited", "./unwaitedmain", "./cross/...", "./ignore", "./ignorereason", "./skiptests", "./odd", "./static"}
	fixedPkgs = []string{"./detached", "./fixes", "./mistakes/..."}
)

// recorder collects what analysistest reports.
type recorder struct {
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

type run struct {
	once    sync.Once
	rec     recorder
	results []*analysistest.Result
}

var plain, fixed run

func (r *run) get(fix bool) *run {
	r.once.Do(func() {
		if fix {
			r.results = analysistest.RunWithSuggestedFixes(&r.rec, testdata, analyzer.Analyzer, fixedPkgs...)
		} else {
			r.results = analysistest.Run(&r.rec, testdata, analyzer.Analyzer, plainPkgs...)
		}
	})
	return r
}

// check fails t with every problem the run found in testdata/dir.
func check(t *testing.T, r *run, dir string) {
	t.Helper()
	if len(r.results) == 0 {
		t.Fatalf("the run analysed no package: %q", r.rec.errs)
	}
	// Diagnostics name files by absolute path, golden-file mismatches by
	// the path relative to this package.
	rel := filepath.Join(testdata, dir) + string(filepath.Separator)
	for _, e := range r.rec.errs {
		if strings.Contains(e, rel) {
			t.Error(e)
		}
	}
}

func TestSharedWrite(t *testing.T) { check(t, plain.get(false), "sharedwrite") }
func TestDetachedCall(t *testing.T) {
	check(t, fixed.get(true), "detached")
	// Four fixes; the shadowed context and the Split call get none.
	if n := countFixes(fixed.get(true), "detached"); n != 4 {
		t.Errorf("%d diagnostics with a suggested fix, want 4", n)
	}
}
func TestDroppedError(t *testing.T) { check(t, plain.get(false), "droppederr") }
func TestNeverWaited(t *testing.T) {
	check(t, plain.get(false), "unwaited")
	check(t, plain.get(false), "unwaitedmain")
}
func TestCannotCross(t *testing.T)           { check(t, plain.get(false), "cross") }
func TestStaticAtStartup(t *testing.T)       { check(t, plain.get(false), "static") }
func TestIgnore(t *testing.T)                { check(t, plain.get(false), "ignore") }
func TestSkipTestsOffByDefault(t *testing.T) { check(t, plain.get(false), "skiptests") }

// Problems that name no testdata directory (a package that failed to load)
// belong to no test above: they fail this one.
func TestTestdataLoads(t *testing.T) {
	for _, r := range []*run{plain.get(false), fixed.get(true)} {
		for _, e := range r.rec.errs {
			if !strings.Contains(e, testdata+string(filepath.Separator)) {
				t.Error(e)
			}
		}
	}
}

// The mistakes a user makes turning each of the project's four examples
// concurrent: each gets exactly its diagnostic (the want comments are
// anchored), and the fixes give the programs of the golden files.
func TestExampleMistakes(t *testing.T) {
	// The fixes each example's diagnostic offers: RunWithSuggestedFixes
	// compares a golden file only when a fix touches it, so their number
	// is checked too.
	for example, fixes := range map[string]int{"sleep": 1, "order": 0, "thumbnails": 1, "downloads": 1} {
		t.Run(example, func(t *testing.T) {
			check(t, fixed.get(true), filepath.Join("mistakes", example))
			if n := countFixes(fixed.get(true), "mistakes/"+example); n != fixes {
				t.Errorf("%d diagnostics with a suggested fix, want %d", n, fixes)
			}
		})
	}
}

// countFixes counts the diagnostics with a suggested fix in the testdata
// package dir.
func countFixes(r *run, dir string) int {
	n := 0
	for _, res := range r.results {
		if res.Pass == nil || res.Pass.Pkg.Path() != "example.com/decocheck/"+dir {
			continue
		}
		for _, d := range res.Diagnostics {
			if len(d.SuggestedFixes) > 0 {
				n++
			}
		}
	}
	return n
}

// An ignore directive without a reason still silences the shared write and
// is reported itself (a want comment cannot share its line).
func TestIgnoreNeedsAReason(t *testing.T) {
	var msgs []string
	for _, res := range plain.get(false).results {
		if res.Pass == nil || res.Pass.Pkg.Path() != "example.com/decocheck/ignorereason" {
			continue
		}
		for _, d := range res.Diagnostics {
			msgs = append(msgs, d.Message)
		}
	}
	want := "ignore: //decocheck:ignore needs a reason: //decocheck:ignore why this is not a mistake"
	if len(msgs) != 1 || msgs[0] != want {
		t.Fatalf("diagnostics = %q, want only %q", msgs, want)
	}
	for _, e := range plain.get(false).rec.errs {
		if strings.Contains(e, "ignorereason.go") && !strings.Contains(e, "needs a reason") {
			t.Error(e)
		}
	}
}

func TestOddForms(t *testing.T) { check(t, plain.get(false), "odd") }

func TestSharedWriteFixes(t *testing.T) {
	check(t, fixed.get(true), "fixes")
	// One to deco.AssignContext, one to a *deco.Map; the other three refused.
	if n := countFixes(fixed.get(true), "fixes"); n != 2 {
		t.Errorf("%d diagnostics with a suggested fix, want 2", n)
	}
}
