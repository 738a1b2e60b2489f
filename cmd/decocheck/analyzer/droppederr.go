package analyzer

import (
	"go/ast"
	"go/types"
	"strings"
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
		if d == nil || !d.shape.canFail || !c.canFail(d) || c.futuresKept(call) {
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

// canFail reports whether the decorated function may return an error: it
// is not a literal or a function of this package whose every return
// statement returns a nil error.
func (c *checker) canFail(d *decoration) bool {
	var body *ast.BlockStmt
	switch fn := ast.Unparen(d.call.Args[0]).(type) {
	case *ast.FuncLit:
		body = fn.Body
	case *ast.Ident:
		if f, ok := c.pass.TypesInfo.Uses[fn].(*types.Func); ok && c.funcs[f] != nil {
			body = c.funcs[f].Body
		}
	}
	if body == nil {
		return true
	}
	fails := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			if len(n.Results) == 0 {
				fails = true // named results
				break
			}
			if id, ok := ast.Unparen(n.Results[len(n.Results)-1]).(*ast.Ident); !ok || id.Name != "nil" || c.pass.TypesInfo.Uses[id] != types.Universe.Lookup("nil") {
				fails = true
			}
		}
		return !fails
	})
	return fails
}

// futuresKept reports whether the Func waited by call, a variable, hands
// out Futures that the code keeps: their Wait reports each call's error.
func (c *checker) futuresKept(call *ast.CallExpr) bool {
	var v *types.Var
	if recv, m := c.decoMethod(call, "Func"); m == "Wait" {
		v = c.funcVar(recv)
	} else if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if wv, ok := c.pass.TypesInfo.Uses[id].(*types.Var); ok {
			// The call function of the same Split.
			for cv, sp := range c.splits {
				if !sp.wait && sp.at == c.splits[wv].at {
					for _, u := range c.usesOf(cv) {
						if cl, ok := u.parent.(*ast.CallExpr); ok && cl.Fun == ast.Expr(u.id) && !c.isStatement(cl) {
							return true
						}
					}
				}
			}
			return false
		}
	}
	if v == nil {
		return false
	}
	for _, u := range c.usesOf(v) {
		switch p := u.parent.(type) {
		case *ast.SelectorExpr:
			if m := c.decoMethodOf(p, "Func"); m == "Go" || m == "GoContext" {
				if cl, ok := u.gparent.(*ast.CallExpr); ok && !c.isStatement(cl) {
					return true
				}
			}
		case *ast.CallExpr:
			if name := c.decoFunc(p); strings.HasPrefix(name, "Assign") && !c.isStatement(p) {
				return true
			}
		}
	}
	return false
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
