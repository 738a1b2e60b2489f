package analyzer

import (
	"go/ast"
	"go/types"
)

// Rule 5, cannot-cross, for deco.Static: a worker process or cluster
// worker finds a Static by its name, in the registry that deco.NewStatic
// fills while the program starts — package-level initialisers and init
// functions run in every process of the program, main and the functions
// it calls only in the one that started it. Reported: deco.NewStatic
// called anywhere else (a function or method body, a function literal
// that is not called at once where it is written, a goroutine started in
// init); a worker never has such a Static, and the calls that read it fail
// there. Also reported: a Static whose type cannot cross to another
// process (the check of arguments and results, crossProblem): its value
// could not be carried to any worker. A function of the package's own
// that only package-level initialisers or init functions call (directly,
// or through such functions) runs while the program starts too, and is
// not reported.

func (c *checker) staticsAtStartup() {
	c.inspect.WithStack([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		call := n.(*ast.CallExpr)
		if c.decoFunc(call) != "NewStatic" {
			return true
		}
		if where := c.runsAfterStart(stack); where != "" {
			c.report(call, ruleCannotCross, nil,
				"%s is called inside %s: a worker process or cluster worker finds a Static by its name, registered while the program starts, so make it at package level (var %s = %s), or the calls that read it on an executor fail, since their workers never have it",
				c.text(call), where, assignedName(stack), c.text(call))
		}
		ptr, ok := c.pass.TypesInfo.TypeOf(call).(*types.Pointer)
		if !ok {
			return true
		}
		named, ok := ptr.Elem().(*types.Named)
		if !ok || named.TypeArgs().Len() != 1 {
			return true
		}
		q := types.RelativeTo(c.pass.Pkg)
		t := named.TypeArgs().At(0)
		if problem := crossProblem(t, types.TypeString(t, q), map[types.Type]bool{}, q); problem != "" {
			c.report(typeArg(call), ruleCannotCross, nil,
				"%s makes a Static, whose value is carried to the workers of the executors its readers run on, but its type %s cannot cross to another process: %s; the calls that read it on worker processes fail, and once it is Set every call on a cluster",
				c.text(call), types.TypeString(t, q), problem)
		}
		return true
	})
}

// runsAfterStart describes where the call at the top of stack runs when it
// does not run while the program starts, in every process: "main",
// "method Load", "a function literal in main"; "" for a package-level
// initialiser, an init function, an unexported function that only those
// call (see startupOnly), and function literals called at once there.
func (c *checker) runsAfterStart(stack []ast.Node) string {
	fd, later := enclosing(stack)
	if !later && (fd == nil || c.startupOnly(fd, map[*ast.FuncDecl]bool{})) {
		return ""
	}
	where := "a function literal"
	if fd != nil {
		where = fd.Name.Name
		if fd.Recv != nil {
			where = "method " + where
		}
		if later {
			where = "a function literal in " + where
		}
	}
	return where
}

// enclosing returns the function declaration around the node at the top
// of stack (nil at package level), and whether the node runs later than
// that function's own statements: in a function literal not called where
// it is written, or in a goroutine, which may run after the workers start
// serving.
func enclosing(stack []ast.Node) (fd *ast.FuncDecl, later bool) {
	for i := len(stack) - 2; i >= 0; i-- {
		switch n := stack[i].(type) {
		case *ast.FuncLit:
			if !calledAtOnce(stack, i) {
				later = true
			}
		case *ast.GoStmt:
			later = true
		case *ast.FuncDecl:
			return n, later
		}
	}
	return nil, later
}

// startupOnly reports whether fd runs only while the program starts: an
// init function, or a function of the package's own (unexported, or in
// package main) that is used only by calls that run while the program
// starts, such as var table = newTable().
func (c *checker) startupOnly(fd *ast.FuncDecl, visiting map[*ast.FuncDecl]bool) bool {
	if fd.Recv != nil || visiting[fd] {
		return false
	}
	if fd.Name.Name == "init" {
		return true
	}
	fn, ok := c.pass.TypesInfo.Defs[fd.Name].(*types.Func)
	if !ok || (fn.Exported() && c.pass.Pkg.Name() != "main") {
		return false
	}
	if c.startupCalls == nil {
		c.collectStartupCalls()
	}
	calls := c.startupCalls[fn]
	if len(calls) == 0 || len(calls) != len(c.usesOf(fn)) {
		return false // not called, or used otherwise than called
	}
	visiting[fd] = true
	defer delete(visiting, fd)
	for _, at := range calls {
		if at.later || (at.fd != nil && !c.startupOnly(at.fd, visiting)) {
			return false
		}
	}
	return true
}

// A callSite is where a function of the package is called.
type callSite struct {
	fd    *ast.FuncDecl // the declaration around the call, nil at package level
	later bool          // in a function literal or goroutine that runs later
}

// collectStartupCalls indexes the calls of the package's functions by
// callee, with where they are made, for startupOnly.
func (c *checker) collectStartupCalls() {
	c.startupCalls = map[*types.Func][]callSite{}
	c.inspect.WithStack([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		fun := ast.Unparen(n.(*ast.CallExpr).Fun)
		switch f := fun.(type) { // a generic function's instantiation
		case *ast.IndexExpr:
			fun = f.X
		case *ast.IndexListExpr:
			fun = f.X
		}
		id, ok := ast.Unparen(fun).(*ast.Ident)
		if !ok {
			return true
		}
		if fn, ok := c.pass.TypesInfo.Uses[id].(*types.Func); ok && fn.Pkg() == c.pass.Pkg {
			fd, later := enclosing(stack)
			c.startupCalls[fn] = append(c.startupCalls[fn], callSite{fd, later})
		}
		return true
	})
}

// calledAtOnce reports whether the function literal stack[i] is called
// where it is written: func() { ... }().
func calledAtOnce(stack []ast.Node, i int) bool {
	j := i - 1
	for j >= 0 {
		if _, ok := stack[j].(*ast.ParenExpr); !ok {
			break
		}
		j--
	}
	if j < 0 {
		return false
	}
	call, ok := stack[j].(*ast.CallExpr)
	return ok && ast.Unparen(call.Fun) == stack[i]
}

// assignedName returns the name the call at the top of stack is assigned
// to, for the message's suggestion, or "table".
func assignedName(stack []ast.Node) string {
	if len(stack) < 2 {
		return "table"
	}
	call := stack[len(stack)-1]
	var lhs []ast.Expr
	var rhs []ast.Expr
	switch p := stack[len(stack)-2].(type) {
	case *ast.AssignStmt:
		lhs, rhs = p.Lhs, p.Rhs
	case *ast.ValueSpec:
		for _, id := range p.Names {
			lhs = append(lhs, id)
		}
		rhs = p.Values
	}
	if len(lhs) != len(rhs) {
		return "table"
	}
	for i, r := range rhs {
		if r == call {
			if id, ok := lhs[i].(*ast.Ident); ok && id.Name != "_" {
				return id.Name
			}
		}
	}
	return "table"
}

// typeArg returns the type argument written in deco.NewStatic[T](...), or
// the call when there is none to point at.
func typeArg(call *ast.CallExpr) ast.Node {
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.IndexExpr:
		return f.Index
	case *ast.IndexListExpr:
		return f.Indices[0]
	}
	return call
}
