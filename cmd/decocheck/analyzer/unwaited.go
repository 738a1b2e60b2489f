package analyzer

import (
	"go/ast"
	"go/token"
	"go/types"
)

// Rule 4, never-waited (a warning): calls of a decorated function started
// with Go, Assign, AssignTo or the call function of Split, when nothing in
// the package waits for that function — no Wait, Completed, InOrder, no use
// of Split's wait — and main does not call deco.WaitAll. Such calls still
// run, but their results, errors and panics are lost, and the program may
// exit before they finish. When every call's Future is waited (f.Go(x).Wait()
// or fut := f.Go(x) and fut.Wait(), every other use of fut being Done or
// Index), nothing is lost; the message says so, and that the batch stays
// open and its pool's workers parked until Func.Wait or WaitAll. To stay clear of false positives the rule only
// looks at variables whose every use it sees: a local variable, or an
// unexported package-level one, that is not passed, returned or stored
// anywhere, and whose calls are not started with a context (a context may
// belong to a Synchronized scope, which waits for them). Reachability from
// main is approximated by the package: in a main package whose main calls
// deco.WaitAll, nothing is reported; nor where the function that starts the
// calls calls deco.WaitAll itself.

func (c *checker) neverWaited() {
	if c.pass.Pkg.Name() == "main" && c.mainCallsWaitAll() {
		return
	}
	type use struct {
		start   *ast.CallExpr // the first call started
		starts  int
		waited  bool
		unknown bool // used in a way the rule cannot follow
		// Starts whose Future is waited: f.Go(x).Wait(), or fut := f.Go(x)
		// with fut.Wait() (futs holds those fut, checked at the end).
		futureWaits int
		futs        []*types.Var
	}
	// futureUse is what the rule sees of a variable holding a *deco.Future.
	type futureUse struct {
		waited  bool // fut.Wait() is called
		unknown bool // used otherwise than fut.Wait(), fut.Done(), fut.Index()
	}
	futures := map[*types.Var]*futureUse{}
	// A use is keyed by the Func's variable, or by the position of a
	// Split called on a constructor directly.
	uses := map[any]*use{}
	get := func(v any) *use {
		u := uses[v]
		if u == nil {
			u = &use{}
			uses[v] = u
		}
		return u
	}
	info := c.pass.TypesInfo
	c.inspect.WithStack([]ast.Node{(*ast.Ident)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		id := n.(*ast.Ident)
		v, ok := info.Uses[id].(*types.Var)
		if !ok {
			return true
		}
		if sp, ok := c.splits[v]; ok {
			var key any = sp.at
			if rv := c.funcVar(sp.recv); rv != nil {
				key = rv
			} else if c.decorationOf(sp.recv) == nil {
				return true
			}
			u := get(key)
			if sp.wait {
				u.waited = true
				return true
			}
			if call, ok := parent(stack, 1).(*ast.CallExpr); ok && call.Fun == id {
				u.starts++
				if u.start == nil {
					u.start = call
				}
				return true
			}
			u.unknown = true
			return true
		}
		if isDecoType(v.Type(), "Future") {
			fu := futures[v]
			if fu == nil {
				fu = &futureUse{}
				futures[v] = fu
			}
			sel, ok := parent(stack, 1).(*ast.SelectorExpr)
			if !ok || sel.X != id {
				fu.unknown = true
				return true
			}
			switch c.decoMethodOf(sel, "Future") {
			case "Wait":
				if call, ok := parent(stack, 2).(*ast.CallExpr); ok && call.Fun == sel {
					fu.waited = true
				}
			case "Done", "Index":
			default:
				fu.unknown = true
			}
			return true
		}
		if !isDecoType(v.Type(), "Func") {
			return true
		}
		u := get(v)
		if sel, ok := parent(stack, 1).(*ast.SelectorExpr); ok && sel.X == id {
			switch c.decoMethodOf(sel, "Func") {
			case "Go":
				if call, ok := parent(stack, 2).(*ast.CallExpr); ok && call.Fun == sel {
					u.starts++
					if u.start == nil {
						u.start = call
					}
					if c.futureWaitedAt(call, parent(stack, 3), parent(stack, 4)) {
						u.futureWaits++
					} else if fut := c.futureDefinedBy(call, parent(stack, 3)); fut != nil {
						u.futs = append(u.futs, fut)
					}
					return true
				}
				u.unknown = true
			case "Wait", "Completed", "InOrder":
				u.waited = true
			case "GoContext":
				u.unknown = true
			case "Split", "With", "Stats", "Name":
			default:
				u.unknown = true
			}
			return true
		}
		if call, ok := parent(stack, 1).(*ast.CallExpr); ok {
			switch c.decoFunc(call) {
			case "Assign", "AssignTo":
				u.starts++
				if u.start == nil {
					u.start = call
				}
				return true
			}
		}
		u.unknown = true // passed, returned, stored, a context form...
		return true
	})
	for key, u := range uses {
		if u.starts == 0 || u.waited || u.unknown || u.start == nil || c.waitAllAround(u.start.Pos()) {
			continue
		}
		name := ""
		switch key := key.(type) {
		case *types.Var:
			if !c.unwaitedVar(key) {
				continue
			}
			name = key.Name()
		case token.Pos:
			name = "the function split at " + c.line(key, u.start.Pos())
		}
		for _, fut := range u.futs {
			if fu := futures[fut]; fu != nil && fu.waited && !fu.unknown {
				u.futureWaits++
			}
		}
		if u.futureWaits == u.starts {
			// Every call is waited through its Future, which gives its
			// result, error and panic: nothing is lost, but the batch is
			// never taken (see deco.Future and deco.Pool).
			c.report(u.start, ruleNeverWaited, nil,
				"the calls of %s started here are waited only through their Futures: nothing calls %s.Wait (or Completed, InOrder) and main does not defer deco.WaitAll(), so its batch stays open until one of those waits — it keeps every call's result and error, and its pool's workers stay parked",
				name, name)
			continue
		}
		c.report(u.start, ruleNeverWaited, nil,
			"the calls of %s started here are never waited: nothing calls its Wait (or Completed, InOrder, the wait of Split) and main does not defer deco.WaitAll(), so their results, errors and panics are lost and the program may exit before they finish",
			name)
	}
}

// futureWaitedAt reports whether the Future that call (f.Go(x)) returns is
// waited at once: f.Go(x).Wait(), with up and up2 call's parents.
func (c *checker) futureWaitedAt(call *ast.CallExpr, up, up2 ast.Node) bool {
	sel, ok := up.(*ast.SelectorExpr)
	if !ok || sel.X != call || c.decoMethodOf(sel, "Future") != "Wait" {
		return false
	}
	w, ok := up2.(*ast.CallExpr)
	return ok && w.Fun == sel
}

// futureDefinedBy returns the variable that fut := f.Go(x) defines, with
// up call's parent, or nil for any other shape.
func (c *checker) futureDefinedBy(call *ast.CallExpr, up ast.Node) *types.Var {
	as, ok := up.(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE || len(as.Lhs) != 1 || len(as.Rhs) != 1 || as.Rhs[0] != call {
		return nil
	}
	id, ok := as.Lhs[0].(*ast.Ident)
	if !ok {
		return nil
	}
	v, _ := c.pass.TypesInfo.Defs[id].(*types.Var)
	return v
}

// unwaitedVar reports whether v is a Func variable the rule sees whole.
func (c *checker) unwaitedVar(v *types.Var) bool {
	{
		if v.Pkg() != c.pass.Pkg || (v.Parent() == c.pass.Pkg.Scope() && v.Exported()) {
			return false
		}
		return c.decorationOfVar(v, 0) != nil
	}
}

// funcVar returns the variable e names, if it holds a *deco.Func.
func (c *checker) funcVar(e ast.Expr) *types.Var {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	v, _ := c.pass.TypesInfo.Uses[id].(*types.Var)
	return v
}

func parent(stack []ast.Node, up int) ast.Node {
	if len(stack) < up+1 {
		return nil
	}
	return stack[len(stack)-1-up]
}

// waitAllAround reports whether the function declaration around pos calls
// deco.WaitAll, which waits for the calls it starts.
func (c *checker) waitAllAround(pos token.Pos) bool {
	for _, fd := range c.funcs {
		if fd.Pos() <= pos && pos < fd.End() {
			return c.callsWaitAll(fd)
		}
	}
	return false
}

// mainCallsWaitAll reports whether func main calls deco.WaitAll.
func (c *checker) mainCallsWaitAll() bool {
	main, ok := c.pass.Pkg.Scope().Lookup("main").(*types.Func)
	if !ok {
		return false
	}
	fd := c.funcs[main]
	if fd == nil {
		return false
	}
	return c.callsWaitAll(fd)
}

func (c *checker) callsWaitAll(fd *ast.FuncDecl) bool {
	found := false
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && c.decoFunc(call) == "WaitAll" {
			found = true
		}
		return !found
	})
	return found
}
