package analyzer

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// Rule 2, detached-call: inside the body of deco.Synchronized, a call
// started without the scope's context — f.Go(x), deco.Assign(...),
// deco.AssignTo(...), or the call function of Func.Split — belongs to f's
// batch, not to the scope: Synchronized returns without waiting for it, and
// its error and its assignment are not the scope's. Fix: the context forms,
// with the body's context: f.GoContext(ctx, x), deco.AssignContext(ctx, ...),
// deco.AssignToContext(ctx, ...). Reported only when the body names its
// context (it has the scope's context in hand), and not for a Func the body
// waits for itself. Literals decorated inside the body are tasks, not the
// body, and are not searched.

func (c *checker) detachedCalls() {
	c.inspect.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		call := n.(*ast.CallExpr)
		if c.decoFunc(call) != "Synchronized" || len(call.Args) < 2 {
			return
		}
		body, ok := ast.Unparen(call.Args[1]).(*ast.FuncLit)
		if !ok || body.Type.Params == nil || len(body.Type.Params.List) != 1 || len(body.Type.Params.List[0].Names) != 1 {
			return
		}
		ctxName := body.Type.Params.List[0].Names[0]
		ctxVar, ok := c.pass.TypesInfo.Defs[ctxName].(*types.Var)
		if !ok || ctxName.Name == "_" {
			return
		}
		ast.Inspect(body.Body, func(m ast.Node) bool {
			inner, ok := m.(*ast.CallExpr)
			if !ok {
				return true
			}
			name := c.decoFunc(inner)
			if _, isCtor := constructors[name]; isCtor || name == "Synchronized" {
				return false // tasks, and inner scopes with a context of their own
			}
			c.checkDetached(body.Body, inner, name, ctxVar, call.Pos())
			return true
		})
	})
}

func (c *checker) checkDetached(body *ast.BlockStmt, call *ast.CallExpr, name string, ctxVar *types.Var, scope token.Pos) {
	// The fix passes the body's context by name: only where that name
	// still means it.
	ctxVisible := false
	if s := c.scopeAt(call.Pos()); s != nil {
		if _, obj := s.LookupParent(ctxVar.Name(), call.Pos()); obj == ctxVar {
			ctxVisible = true
		}
	}
	fix := func(msg string, nameID *ast.Ident, newName string) []analysis.SuggestedFix {
		if !ctxVisible || nameID == nil {
			return nil
		}
		return []analysis.SuggestedFix{{
			Message: msg,
			TextEdits: []analysis.TextEdit{
				{Pos: nameID.Pos(), End: nameID.End(), NewText: []byte(newName)},
				{Pos: call.Lparen + 1, End: call.Lparen + 1, NewText: []byte(ctxVar.Name() + ", ")},
			},
		}}
	}
	where := c.line(scope, call.Pos())
	switch name {
	case "Assign", "AssignTo":
		if len(call.Args) >= 2 && c.waitedIn(body, call.Args[len(call.Args)-2]) {
			return
		}
		c.report(call, ruleDetachedCall, fix("Use deco."+name+"Context with the scope's context", funcIdent(call.Fun), name+"Context"),
			"deco.%s inside the deco.Synchronized body at %s is not part of the scope: Synchronized returns without waiting for it, its error is not the scope's, and its assignment waits for the function's own Wait; use deco.%sContext(%s, ...)", name, where, name, ctxVar.Name())
		return
	}
	if recv, m := c.decoMethod(call, "Func"); m == "Go" {
		if c.waitedIn(body, recv) {
			return
		}
		sel := ast.Unparen(call.Fun).(*ast.SelectorExpr)
		c.report(call, ruleDetachedCall, fix("Use GoContext with the scope's context", sel.Sel, "GoContext"),
			"%s.Go inside the deco.Synchronized body at %s is not part of the scope: Synchronized returns without waiting for the call, and its error is not the scope's; use %s.GoContext(%s, ...)", c.text(recv), where, c.text(recv), ctxVar.Name())
		return
	}
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if v, ok := c.pass.TypesInfo.Uses[id].(*types.Var); ok {
			if sp, ok := c.splits[v]; ok && !sp.wait {
				c.report(call, ruleDetachedCall, nil,
					"%s, the call function of %s.Split, inside the deco.Synchronized body at %s starts a call that is not part of the scope: Synchronized returns without waiting for it; use %s.GoContext(%s, ...)", id.Name, c.text(sp.recv), where, c.text(sp.recv), ctxVar.Name())
			}
		}
	}
}

// waitedIn reports whether body waits for the Func variable f itself
// (Wait, Completed or InOrder): its calls, though not the scope's, are
// then accounted for inside the scope.
func (c *checker) waitedIn(body *ast.BlockStmt, f ast.Expr) bool {
	v := c.funcVar(f)
	if v == nil {
		return false
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if recv, m := c.decoMethod(call, "Func"); (m == "Wait" || m == "Completed" || m == "InOrder") && c.funcVar(recv) == v {
				found = true
			}
		}
		return !found
	})
	return found
}

// funcIdent returns the identifier naming the function call expression fun
// calls: deco.Assign, Assign (dot import), deco.Assign[K, A, R].
func funcIdent(fun ast.Expr) *ast.Ident {
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		return f
	case *ast.SelectorExpr:
		return f.Sel
	case *ast.IndexExpr:
		return funcIdent(f.X)
	case *ast.IndexListExpr:
		return funcIdent(f.X)
	}
	return nil
}

// scopeAt returns the innermost scope containing pos.
func (c *checker) scopeAt(pos token.Pos) *types.Scope {
	s := c.pass.Pkg.Scope().Innermost(pos)
	return s
}
