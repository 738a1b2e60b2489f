package analyzer

import (
	"go/ast"
	"go/types"
)

// Rule 3, dropped-error: Func.Wait, and the wait function of Func.Split,
// are the only place the errors of a batch go (one *deco.CallError per
// failed call, joined): WaitAll does not see a batch that was waited. For
// a function decorated with a shape that can fail (ConcurrentErr,
// ConcurrentResult and their Ctx forms), a wait that is deferred, run with go,
// called as a statement, or whose error is assigned to _, loses them. Only
// Funcs whose decoration is known (a variable set only to a constructor, or
// With of one) are checked.

func (c *checker) droppedErrors() {
	c.inspect.WithStack([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		call := n.(*ast.CallExpr)
		var d *decoration
		var what string
		if recv, m := c.decoMethod(call, "Func"); m == "Wait" {
			d, what = c.decorationOf(recv), c.text(recv)+".Wait()"
		} else if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
			if v, ok := c.pass.TypesInfo.Uses[id].(*types.Var); ok {
				if sp, ok := c.splits[v]; ok && sp.wait && len(c.defs[v]) == 1 {
					d, what = c.decorationOf(sp.recv), id.Name+"(), the wait of "+c.text(sp.recv)+".Split(),"
				}
			}
		}
		if d == nil || !d.shape.canFail {
			return true
		}
		how := droppedHow(call, stack)
		if how == "" {
			return true
		}
		c.report(call, ruleDroppedError, nil,
			"%s %s, so the errors of %s's calls are lost: this wait is the only place they go (one *deco.CallError per failed call, joined; deco.WaitAll does not see a waited batch); check it: if _, err := %s; err != nil { ... }",
			what, how, c.taskName(d), c.text(call))
		return true
	})
}

// droppedHow says how the wait call, whose ancestors are stack, drops its
// error, or "" if it does not.
func droppedHow(call *ast.CallExpr, stack []ast.Node) string {
	if len(stack) < 2 {
		return ""
	}
	switch p := stack[len(stack)-2].(type) {
	case *ast.ExprStmt:
		return "is called as a statement"
	case *ast.DeferStmt:
		if p.Call == call {
			return "is deferred"
		}
	case *ast.GoStmt:
		if p.Call == call {
			return "is run with go"
		}
	case *ast.AssignStmt:
		if len(p.Rhs) == 1 && len(p.Lhs) == 2 && isBlank(p.Lhs[1]) {
			return "has its error assigned to _"
		}
	case *ast.ValueSpec:
		if len(p.Values) == 1 && len(p.Names) == 2 && p.Names[1].Name == "_" {
			return "has its error assigned to _"
		}
	}
	return ""
}

func isBlank(e ast.Expr) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	return ok && id.Name == "_"
}
