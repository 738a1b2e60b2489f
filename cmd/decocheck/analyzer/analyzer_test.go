package analyzer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/deco-go/deco/cmd/decocheck/analyzer"
	"golang.org/x/tools/go/analysis/analysistest"
)

// testdata is a module that replaces github.com/deco-go/deco with this
// repository's root: the rules are tested against the real package, so a
// change of deco's API that breaks them fails here.
const testdata = "testdata"

func TestSharedWrite(t *testing.T) {
	analysistest.Run(t, testdata, analyzer.Analyzer, "./sharedwrite")
}

func TestDetachedCall(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, testdata, analyzer.Analyzer, "./detached")
}

func TestDroppedError(t *testing.T) {
	analysistest.Run(t, testdata, analyzer.Analyzer, "./droppederr")
}

func TestNeverWaited(t *testing.T) {
	analysistest.Run(t, testdata, analyzer.Analyzer, "./unwaited", "./unwaitedmain")
}

func TestCannotCross(t *testing.T) {
	analysistest.Run(t, testdata, analyzer.Analyzer, "./cross")
}

func TestIgnore(t *testing.T) {
	analysistest.Run(t, testdata, analyzer.Analyzer, "./ignore")
}

// recorder collects what analysistest reports, for tests that check the
// diagnostics themselves.
type recorder struct{ errs []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestIgnoreNeedsAReason(t *testing.T) {
	r := new(recorder)
	results := analysistest.Run(r, testdata, analyzer.Analyzer, "./ignorereason")
	var msgs []string
	for _, res := range results {
		for _, d := range res.Diagnostics {
			msgs = append(msgs, d.Message)
		}
	}
	want := "ignore: //decocheck:ignore needs a reason: //decocheck:ignore why this is not a mistake"
	if len(msgs) != 1 || msgs[0] != want {
		t.Fatalf("diagnostics = %q, want only %q", msgs, want)
	}
}

func TestSkipTests(t *testing.T) {
	// Without the flag, the deliberate race in skip_test.go is reported.
	r := new(recorder)
	analysistest.Run(r, testdata, analyzer.Analyzer, "./skiptests")
	if !hasUnexpected(r.errs, "skip_test.go") {
		t.Fatalf("without -skiptests the race in skip_test.go was not reported: %q", r.errs)
	}
	setFlag(t, "skiptests", "true")
	analysistest.Run(t, testdata, analyzer.Analyzer, "./skiptests")
}

func hasUnexpected(errs []string, file string) bool {
	for _, e := range errs {
		if strings.Contains(e, file) && strings.Contains(e, "unexpected diagnostic") {
			return true
		}
	}
	return false
}

func setFlag(t *testing.T, name, value string) {
	t.Helper()
	f := analyzer.Analyzer.Flags.Lookup(name)
	old := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Value.Set(old) })
}

// The mistakes a user makes turning each of the project's four examples
// concurrent: each gets exactly its diagnostic (the want comments are
// anchored), and the fixes give the programs of the golden files.
func TestSeedMistakes(t *testing.T) {
	for _, seed := range []string{"sleep", "order", "thumbnails", "downloads"} {
		t.Run(seed, func(t *testing.T) {
			analysistest.RunWithSuggestedFixes(t, testdata, analyzer.Analyzer, "./seeds/"+seed)
		})
	}
}

// The project's own examples, written right, get no diagnostic.
func TestExamplesAreClean(t *testing.T) {
	analysistest.Run(t, "../../../examples", analyzer.Analyzer, "./...")
}

func TestSharedWriteFixes(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, testdata, analyzer.Analyzer, "./fixes")
}
