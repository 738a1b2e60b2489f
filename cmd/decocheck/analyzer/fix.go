package analyzer

import (
	"go/ast"

	"golang.org/x/tools/go/analysis"
)

func (c *checker) sharedWriteFixes(t *task, stmt ast.Node, lhs ast.Expr) []analysis.SuggestedFix {
	return nil
}
