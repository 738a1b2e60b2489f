package analyzer

import (
	"flag"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Analyzer is decocheck: it reports the mistakes deco's rules forbid but the
// compiler accepts. See the package documentation for the rules.
var Analyzer = &analysis.Analyzer{
	Name:     "decocheck",
	Doc:      doc,
	URL:      "https://pkg.go.dev/github.com/deco-go/deco/cmd/decocheck/analyzer",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
	Flags:    flags(),
}

const doc = `decocheck reports misuses of github.com/deco-go/deco that compile

Rules: shared-write (a task writes a captured plain map, slice or variable),
detached-call (f.Go or deco.Assign inside deco.Synchronized, which does not
wait for them), dropped-error (the wait of a function that can fail called so
that its error is lost), never-waited (calls started that nothing waits for),
cannot-cross (a named or On-decorated function whose argument or result cannot
travel to another process, or that is decorated after the program starts; a
deco.Static whose type cannot, or that is made after the program starts).
A //decocheck:ignore reason comment on the line, or on the line above,
silences one diagnostic; -skiptests skips _test.go files.`

var skipTests bool

func flags() flag.FlagSet {
	var fs flag.FlagSet
	fs.BoolVar(&skipTests, "skiptests", false, "report nothing in _test.go files (tests that race deliberately)")
	return fs
}

// The rules' names, at the start of every message and as the diagnostic's
// Category.
const (
	ruleSharedWrite  = "shared-write"
	ruleDetachedCall = "detached-call"
	ruleDroppedError = "dropped-error"
	ruleNeverWaited  = "never-waited"
	ruleCannotCross  = "cannot-cross"
	ruleIgnore       = "ignore"
)

// checker holds one pass's state, shared by the rules.
type checker struct {
	pass    *analysis.Pass
	inspect *inspector.Inspector
	ignores map[ignoreKey]bool
	funcs   map[*types.Func]*ast.FuncDecl // this package's functions with bodies
	defs    map[*types.Var][]ast.Expr     // every value assigned to a variable; nil for an unknown one
	splits  map[*types.Var]splitPart      // variables set from Func.Split
	seen    map[token.Pos]bool            // positions already reported, one diagnostic each
	uses    map[types.Object][]identUse   // every use of each object, built on first need

	startupCalls map[*types.Func][]callSite // the calls of each function of the package, built on first need
}

func run(pass *analysis.Pass) (any, error) {
	c := &checker{
		pass:    pass,
		inspect: pass.ResultOf[inspect.Analyzer].(*inspector.Inspector),
		funcs:   map[*types.Func]*ast.FuncDecl{},
		defs:    map[*types.Var][]ast.Expr{},
		splits:  map[*types.Var]splitPart{},
		seen:    map[token.Pos]bool{},
	}
	if !importsDeco(pass.Pkg) {
		return nil, nil
	}
	c.collectIgnores()
	c.collect()
	c.sharedWrites()
	c.detachedCalls()
	c.droppedErrors()
	c.neverWaited()
	c.cannotCross()
	c.staticsAtStartup()
	return nil, nil
}

// importsDeco reports whether pkg imports deco, directly: the rules are
// about calls into deco, so other packages have nothing to report.
func importsDeco(pkg *types.Package) bool {
	for _, imp := range pkg.Imports() {
		if imp.Path() == decoPath {
			return true
		}
	}
	return false
}

// report reports a diagnostic of rule at node, unless an ignore directive
// or -skiptests silences it, or the position was reported already.
func (c *checker) report(node ast.Node, rule string, fixes []analysis.SuggestedFix, format string, args ...any) {
	pos := node.Pos()
	if c.seen[pos] {
		return
	}
	c.seen[pos] = true
	p := c.pass.Fset.Position(pos)
	if skipTests && strings.HasSuffix(p.Filename, "_test.go") {
		return
	}
	if c.ignored(p) {
		return
	}
	c.pass.Report(analysis.Diagnostic{
		Pos:            pos,
		End:            node.End(),
		Category:       rule,
		Message:        rule + ": " + fmt.Sprintf(format, args...),
		SuggestedFixes: fixes,
	})
}

// line names a position briefly, for messages: "line 12", or "file.go:12"
// when it is in another file than at.
func (c *checker) line(pos, at token.Pos) string {
	p, q := c.pass.Fset.Position(pos), c.pass.Fset.Position(at)
	if p.Filename == q.Filename {
		return fmt.Sprintf("line %d", p.Line)
	}
	return fmt.Sprintf("%s:%d", shortFile(p.Filename), p.Line)
}

func shortFile(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		return name[i+1:]
	}
	return name
}

// text returns the source text of node.
func (c *checker) text(node ast.Node) string {
	f := c.pass.Fset.File(node.Pos())
	if f == nil {
		return ""
	}
	for _, file := range c.pass.Files {
		if c.pass.Fset.File(file.Pos()) == f {
			src, err := c.pass.ReadFile(f.Name())
			if err != nil {
				return ""
			}
			start, end := f.Offset(node.Pos()), f.Offset(node.End())
			if start < 0 || end > len(src) || start > end {
				return ""
			}
			return string(src[start:end])
		}
	}
	return ""
}

// fileOf returns the file of pos among the pass's files.
func (c *checker) fileOf(pos token.Pos) *ast.File {
	for _, f := range c.pass.Files {
		if f.FileStart <= pos && pos <= f.FileEnd {
			return f
		}
	}
	return nil
}
