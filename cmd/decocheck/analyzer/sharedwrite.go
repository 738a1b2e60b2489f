package analyzer

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// Rule 1, shared-write: a task — the function passed to a Concurrent*
// constructor — runs in many goroutines at once, so a write it makes into
// data every call shares is a data race. Reported: an index assignment,
// delete or clear on a shared plain map; an assignment (append included) to a
// shared variable or to a field or element reached through one; a slice or
// array element written at an index that does not come from the call's own
// argument. Shared means captured by a function literal from outside it,
// package-level, or passed by the task to a function of this package (which
// is then checked the same way, a few calls deep).
//
// Allowed, since they are not races: calls (deco.Map's methods, sync/atomic,
// sync.Map), channel sends, the task's own locals, writes after a Lock of a
// mutex and before its Unlock in the same block, and element writes indexed by
// the call's argument, or by a variable computed from it (deco's rule: "all
// mutations may only be index based"), and writes in a literal handed to
// package sync (Once.Do, OnceFunc), which runs it once. A function decorated
// with deco.Limit(1) runs its calls one after the other, so it is not
// checked.

// limitOne reports whether the decoration has deco.Limit(1), with the
// constant 1: its calls then run one after the other.
func (c *checker) limitOne(call *ast.CallExpr) bool {
	for _, a := range call.Args[1:] {
		oc, ok := ast.Unparen(a).(*ast.CallExpr)
		if !ok || c.decoFunc(oc) != "Limit" || len(oc.Args) != 1 {
			continue
		}
		if tv, ok := c.pass.TypesInfo.Types[oc.Args[0]]; ok && tv.Value != nil && tv.Value.String() == "1" {
			return true
		}
	}
	return false
}

// maxDepth bounds how many calls deep a task's shared data is followed.
const maxDepth = 4

// A task is one walk: the body of a task, or of a function it passes
// shared data to.
type task struct {
	d       *decoration
	lit     *ast.FuncLit          // the task's literal, when the walk is in it
	shared  map[*types.Var]string // parameters holding shared data → the variable's name at the task
	argVars map[*types.Var]bool   // variables holding the call's own argument, or computed from it
	locked  []span                // regions after a mutex Lock and before its Unlock
	via     string                // how the walk got here, for messages: "slow(times, index)"
	visited map[*types.Func]bool  // functions walked for this task
	depth   int
}

type span struct{ from, to token.Pos }

func (c *checker) sharedWrites() {
	c.inspect.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		call := n.(*ast.CallExpr)
		name := c.decoFunc(call)
		s, ok := constructors[name]
		if !ok || len(call.Args) == 0 {
			return
		}
		if c.limitOne(call) {
			return // one call at a time: the pool orders them, no write races another
		}
		d := &decoration{call: call, name: name, shape: s}
		t := &task{d: d, shared: map[*types.Var]string{}, argVars: map[*types.Var]bool{}, visited: map[*types.Func]bool{}}
		switch fn := ast.Unparen(call.Args[0]).(type) {
		case *ast.FuncLit:
			t.lit = fn
			t.markArg(c, fn.Type)
			c.walkTask(t, fn.Body)
		case *ast.Ident, *ast.SelectorExpr:
			// A variable set once to a literal is that literal.
			if id, ok := fn.(*ast.Ident); ok {
				if v, ok := c.pass.TypesInfo.Uses[id].(*types.Var); ok {
					if vals := c.defs[v]; len(vals) == 1 && vals[0] != nil {
						if lit, ok := ast.Unparen(vals[0]).(*ast.FuncLit); ok {
							t.lit = lit
							t.markArg(c, lit.Type)
							c.walkTask(t, lit.Body)
						}
					}
					return
				}
			}
			f, ok := typeutil.Callee(c.pass.TypesInfo, &ast.CallExpr{Fun: fn}).(*types.Func)
			if !ok {
				return
			}
			fd := c.funcs[f.Origin()]
			if fd == nil {
				return
			}
			if fd.Recv != nil {
				// A method value: every call shares its receiver.
				sel, ok := fn.(*ast.SelectorExpr)
				if !ok || len(fd.Recv.List) != 1 || len(fd.Recv.List[0].Names) != 1 {
					return
				}
				recv, ok := c.pass.TypesInfo.Defs[fd.Recv.List[0].Names[0]].(*types.Var)
				if !ok {
					return
				}
				if s, ok := c.pass.TypesInfo.Selections[sel]; ok && s.Kind() == types.MethodExpr {
					t.argVars[recv] = true // (*T).M: the receiver is the call's argument
					t.visited[f.Origin()] = true
					c.walkTask(t, fd.Body)
					return
				}
				if !holdsReferences(recv.Type()) {
					return
				}
				t.shared[recv] = recv.Name()
				if recv.Name() != c.text(sel.X) {
					t.shared[recv] = recv.Name() + ", the receiver " + c.text(sel.X)
				}
			}
			t.visited[f.Origin()] = true
			t.markArg(c, fd.Type)
			c.walkTask(t, fd.Body)
		}
	})
}

// markArg records the last parameter of a task's signature — its argument,
// after the context if any — as the call's own argument.
func (t *task) markArg(c *checker, ft *ast.FuncType) {
	if ft.Params == nil || len(ft.Params.List) == 0 {
		return
	}
	last := ft.Params.List[len(ft.Params.List)-1]
	if len(last.Names) == 0 {
		return
	}
	if v, ok := c.pass.TypesInfo.Defs[last.Names[len(last.Names)-1]].(*types.Var); ok {
		t.argVars[v] = true
	}
}

// isShared reports whether v holds data that every call of t's task shares,
// and returns the name to use for it in messages.
func (c *checker) isShared(t *task, v *types.Var) (string, bool) {
	if v == nil || v.IsField() {
		return "", false
	}
	if name, ok := t.shared[v]; ok {
		return name, true
	}
	if v.Pkg() != nil && v.Parent() == v.Pkg().Scope() {
		return v.Name(), true // package-level
	}
	if t.lit != nil && v.Pkg() == c.pass.Pkg && (v.Pos() < t.lit.Pos() || v.Pos() >= t.lit.End()) {
		return v.Name(), true // captured from outside the literal
	}
	return "", false
}

// sharedRoot returns the shared variable that the location e writes to
// belongs to, and its name, or nil when e is the task's own.
func (c *checker) sharedRoot(t *task, e ast.Expr) (*types.Var, string) {
	info := c.pass.TypesInfo
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		v, _ := info.Uses[e].(*types.Var)
		if name, ok := c.isShared(t, v); ok {
			return v, name
		}
	case *ast.SelectorExpr:
		if s, ok := info.Selections[e]; ok {
			if s.Kind() == types.FieldVal {
				return c.sharedRoot(t, e.X)
			}
			return nil, ""
		}
		return c.sharedRoot(t, e.Sel) // a qualified identifier: pkg.Var
	case *ast.StarExpr:
		return c.sharedRoot(t, e.X)
	case *ast.IndexExpr:
		switch under(info.TypeOf(e.X)).(type) {
		case *types.Map:
			return c.sharedRoot(t, e.X)
		case *types.Slice, *types.Array, *types.Pointer:
			if c.argDerived(t, e.Index) {
				return nil, ""
			}
			return c.sharedRoot(t, e.X)
		}
	case *ast.UnaryExpr:
		if e.Op == token.AND {
			return c.sharedRoot(t, e.X)
		}
	}
	return nil, ""
}

func under(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	u := t.Underlying()
	if p, ok := u.(*types.Pointer); ok {
		if a, ok := p.Elem().Underlying().(*types.Array); ok {
			return a
		}
	}
	return u
}

// argDerived reports whether e mentions the call's own argument, or a
// variable computed from it.
func (c *checker) argDerived(t *task, e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if v, ok := c.pass.TypesInfo.Uses[id].(*types.Var); ok && t.argVars[v] {
				found = true
			}
		}
		return !found
	})
	return found
}

func (t *task) isLocked(pos token.Pos) bool {
	for _, s := range t.locked {
		if s.from <= pos && pos < s.to {
			return true
		}
	}
	return false
}

// walkTask checks the body of t's task, or of a function it passes shared
// data to.
func (c *checker) walkTask(t *task, body *ast.BlockStmt) {
	c.findLocks(t, body)
	info := c.pass.TypesInfo
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			// A literal decorated inside a task is a task of its own.
			if _, ok := constructors[c.decoFunc(n)]; ok {
				return false
			}
			// sync.Once.Do, sync.OnceFunc and their kin run a literal once,
			// whatever the number of calls: its writes do not race.
			if fn, ok := typeutil.Callee(info, n).(*types.Func); ok && fn.Pkg() != nil && fn.Pkg().Path() == "sync" {
				switch fn.Name() {
				case "Do", "OnceFunc", "OnceValue", "OnceValues":
					return false
				}
			}
			if b, ok := typeutil.Callee(info, n).(*types.Builtin); ok && (b.Name() == "delete" || b.Name() == "clear") && len(n.Args) > 0 {
				if t.isLocked(n.Pos()) {
					return true
				}
				if v, name := c.sharedRoot(t, n.Args[0]); v != nil {
					if _, isMap := under(info.TypeOf(n.Args[0])).(*types.Map); isMap || b.Name() == "clear" {
						c.reportShared(t, n, nil, fmt.Sprintf("%s changes %s, which %s: a data race; return the keys, or lock a mutex", c.text(n), describe(c.exprName(n.Args[0], v, name), info.TypeOf(n.Args[0])), c.taskPhrase(t, n.Pos())))
					}
				}
				return true
			}
			c.followCall(t, n)
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for i, l := range n.Lhs {
					if i < len(n.Rhs) && len(n.Lhs) == len(n.Rhs) && c.argDerived(t, n.Rhs[i]) {
						if v, ok := info.Defs[l.(*ast.Ident)].(*types.Var); ok {
							t.argVars[v] = true
						}
					}
				}
				return true
			}
			for i, l := range n.Lhs {
				var rhs ast.Expr
				if len(n.Lhs) == len(n.Rhs) {
					rhs = n.Rhs[i]
				}
				c.checkWrite(t, n, l, rhs)
			}
		case *ast.IncDecStmt:
			c.checkWrite(t, n, n.X, nil)
		case *ast.RangeStmt:
			if n.Tok == token.ASSIGN {
				for _, l := range []ast.Expr{n.Key, n.Value} {
					if l != nil {
						c.checkWrite(t, n, l, nil)
					}
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if len(n.Values) == len(n.Names) && c.argDerived(t, n.Values[i]) {
					if v, ok := info.Defs[id].(*types.Var); ok {
						t.argVars[v] = true
					}
				}
			}
		}
		return true
	})
}

// checkWrite reports stmt if it writes, at the location lhs, data the calls
// share.
func (c *checker) checkWrite(t *task, stmt ast.Stmt, lhs, rhs ast.Expr) {
	if id, ok := lhs.(*ast.Ident); ok && id.Name == "_" {
		return
	}
	if t.isLocked(stmt.Pos()) {
		return
	}
	v, name := c.sharedRoot(t, lhs)
	if v == nil {
		return
	}
	info := c.pass.TypesInfo
	task := c.taskPhrase(t, stmt.Pos())
	var msg string
	switch l := ast.Unparen(lhs).(type) {
	case *ast.IndexExpr:
		switch under(info.TypeOf(l.X)).(type) {
		case *types.Map:
			msg = fmt.Sprintf("%s writes %s, which %s: a plain map written by calls running at once is a data race, and can crash the program; return the value and use deco.Assign, or write into a *deco.Map", c.text(stmt), describe(c.exprName(l.X, v, name), info.TypeOf(l.X)), task)
		default:
			msg = fmt.Sprintf("%s writes an element of %s, which %s, at an index that does not come from the call's argument: a data race; index by the argument, return the value and use deco.AssignTo, or lock a mutex", c.text(stmt), describe(c.exprName(l.X, v, name), info.TypeOf(l.X)), task)
		}
	case *ast.Ident:
		msg = fmt.Sprintf("%s assigns the captured variable %s, which %s: a data race; return the value (Wait returns results in call order), or lock a mutex", c.text(stmt), name, task)
		if call, ok := ast.Unparen(rhs).(*ast.CallExpr); ok {
			if b, ok := typeutil.Callee(info, call).(*types.Builtin); ok && b.Name() == "append" {
				msg = fmt.Sprintf("%s appends to the captured slice %s, which %s: a data race; return the value (Wait returns results in call order), or lock a mutex", c.text(stmt), name, task)
			}
		}
	default:
		msg = fmt.Sprintf("%s writes into %s, which %s: a data race; return the value, or lock a mutex", c.text(stmt), name, task)
	}
	c.reportShared(t, stmt, ast.Unparen(lhs), msg)
}

// exprName names the shared data e, rooted at v (named name), for messages.
func (c *checker) exprName(e ast.Expr, v *types.Var, name string) string {
	if c.rootIs(e, v) {
		return name
	}
	return c.text(e) + " (of " + name + ")"
}

func (c *checker) rootIs(e ast.Expr, v *types.Var) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	return ok && c.pass.TypesInfo.Uses[id] == v
}

// describe names shared data of type t held by name.
func describe(name string, t types.Type) string {
	switch under(t).(type) {
	case *types.Map:
		return "the map " + name
	case *types.Slice:
		return "the slice " + name
	case *types.Array:
		return "the array " + name
	}
	return name
}

// taskPhrase says whose calls share the data: "every call of the task of
// deco.Concurrent at line 12 shares", with the calls that led there.
func (c *checker) taskPhrase(t *task, at token.Pos) string {
	s := fmt.Sprintf("every call of the task of deco.%s at %s shares", t.d.name, c.line(t.d.call.Pos(), at))
	if t.via != "" {
		s += " (through " + t.via + ")"
	}
	return s
}

// taskName names the function a decoration decorates, briefly.
func (c *checker) taskName(d *decoration) string {
	if len(d.call.Args) == 0 {
		return "?"
	}
	switch a := ast.Unparen(d.call.Args[0]).(type) {
	case *ast.FuncLit:
		return "the function literal at " + c.line(a.Pos(), d.call.Pos())
	default:
		return c.text(a)
	}
}

func (c *checker) reportShared(t *task, node ast.Node, lhs ast.Expr, msg string) {
	var fixes []analysis.SuggestedFix
	if lhs != nil {
		fixes = c.sharedWriteFixes(t, node, lhs)
	}
	c.report(node, ruleSharedWrite, fixes, "%s", msg)
}

// followCall walks a function of this package that the task calls with
// shared data as an argument or receiver, with its parameters bound.
func (c *checker) followCall(t *task, call *ast.CallExpr) {
	if t.depth >= maxDepth || t.isLocked(call.Pos()) {
		return
	}
	info := c.pass.TypesInfo
	fn := typeutil.StaticCallee(info, call)
	if fn == nil {
		return
	}
	fd := c.funcs[fn.Origin()]
	if fd == nil || t.visited[fn.Origin()] {
		return
	}
	next := &task{d: t.d, shared: map[*types.Var]string{}, argVars: map[*types.Var]bool{}, visited: t.visited, depth: t.depth + 1}
	bind := func(param *ast.Field, idx int, arg ast.Expr) {
		if param == nil || idx >= len(param.Names) {
			return
		}
		p, ok := info.Defs[param.Names[idx]].(*types.Var)
		if !ok {
			return
		}
		if v, name := c.sharedRoot(t, arg); v != nil && holdsReferences(p.Type()) {
			next.shared[p] = name
			if p.Name() != name {
				next.shared[p] = p.Name() + ", the task's " + name
			}
		}
		if c.argDerived(t, arg) {
			next.argVars[p] = true
		}
	}
	if fd.Recv != nil && len(fd.Recv.List) == 1 {
		if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
			bind(fd.Recv.List[0], 0, sel.X)
		}
	}
	params := flatParams(fd.Type)
	for i, a := range call.Args {
		if i >= len(params) || (fd.Type.Params != nil && params[i].field == fd.Type.Params.List[len(fd.Type.Params.List)-1] && isVariadic(fd.Type)) {
			break
		}
		bind(params[i].field, params[i].idx, a)
	}
	if len(next.shared) == 0 {
		return
	}
	t.visited[fn.Origin()] = true
	next.via = c.text(call)
	if t.via != "" {
		next.via = t.via + ", " + next.via
	}
	c.walkTask(next, fd.Body)
}

// holdsReferences reports whether a value of type t, copied into a
// parameter, still refers to the caller's data.
func holdsReferences(t types.Type) bool {
	switch t.Underlying().(type) {
	case *types.Map, *types.Slice, *types.Pointer, *types.Chan, *types.Interface, *types.Signature:
		return true
	}
	return false
}

type paramRef struct {
	field *ast.Field
	idx   int
}

func flatParams(ft *ast.FuncType) []paramRef {
	var out []paramRef
	if ft.Params == nil {
		return nil
	}
	for _, f := range ft.Params.List {
		if len(f.Names) == 0 {
			out = append(out, paramRef{f, 0})
			continue
		}
		for i := range f.Names {
			out = append(out, paramRef{f, i})
		}
	}
	return out
}

func isVariadic(ft *ast.FuncType) bool {
	if ft.Params == nil || len(ft.Params.List) == 0 {
		return false
	}
	_, ok := ft.Params.List[len(ft.Params.List)-1].Type.(*ast.Ellipsis)
	return ok
}

// findLocks records, in t.locked, the statements that follow X.Lock() in
// a block up to X.Unlock() or the block's end.
func (c *checker) findLocks(t *task, body *ast.BlockStmt) {
	ast.Inspect(body, func(n ast.Node) bool {
		var list []ast.Stmt
		var end token.Pos
		switch n := n.(type) {
		case *ast.BlockStmt:
			list, end = n.List, n.End()
		case *ast.CaseClause:
			list, end = n.Body, n.End()
		case *ast.CommClause:
			list, end = n.Body, n.End()
		default:
			return true
		}
		for i, s := range list {
			recv, ok := c.mutexCall(s, "Lock")
			if !ok {
				continue
			}
			to := end
			for _, s2 := range list[i+1:] {
				if r2, ok := c.mutexCall(s2, "Unlock"); ok && r2 == recv {
					to = s2.Pos()
					break
				}
			}
			t.locked = append(t.locked, span{s.End(), to})
		}
		return true
	})
}

// mutexCall reports whether s is the statement X.name() for a method of
// package sync (Mutex, RWMutex or a type embedding one), and returns X's text.
func (c *checker) mutexCall(s ast.Stmt, name string) (string, bool) {
	es, ok := s.(*ast.ExprStmt)
	if !ok {
		return "", false
	}
	call, ok := ast.Unparen(es.X).(*ast.CallExpr)
	if !ok {
		return "", false
	}
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return "", false
	}
	fn, ok := c.pass.TypesInfo.Uses[sel.Sel].(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "sync" {
		return "", false
	}
	return c.text(sel.X), true
}
