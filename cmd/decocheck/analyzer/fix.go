package analyzer

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"sort"
	"strconv"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// The fixes of rule 1, for m[k] = v into a plain map, offered only when the
// rewrite is mechanical and keeps the program compiling:
//
//   - to deco.Assign, when the write is the task's last statement, keyed by
//     the call's argument, and the decorated function is a variable used only
//     to start calls and wait: the task returns v instead (ConcurrentValue),
//     and each f.Go(x) becomes deco.Assign(m, x, f, x), so that m is written
//     in the waiting goroutine;
//   - to a *deco.Map, when the map is made in this package (map[K]V{} or
//     make) and every use of it, and of the parameters it is passed to, is a
//     write, a comma-ok read, a range, len, or a call passing it on: the map
//     becomes new(deco.Map[K, V]), the parameters *deco.Map[K, V], and the
//     uses Set, Get, All and Len.

func (c *checker) sharedWriteFixes(t *task, stmt ast.Node, lhs ast.Expr) []analysis.SuggestedFix {
	as, ok := stmt.(*ast.AssignStmt)
	if !ok || as.Tok != token.ASSIGN || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
		return nil
	}
	ix, ok := lhs.(*ast.IndexExpr)
	if !ok {
		return nil
	}
	id, ok := ast.Unparen(ix.X).(*ast.Ident)
	if !ok {
		return nil
	}
	m, ok := c.pass.TypesInfo.Uses[id].(*types.Var)
	if !ok {
		return nil
	}
	if _, ok := m.Type().(*types.Map); !ok {
		return nil
	}
	if fix := c.assignFix(t, as, ix, m); fix != nil {
		return []analysis.SuggestedFix{*fix}
	}
	if fix := c.mapFix(m); fix != nil {
		return []analysis.SuggestedFix{*fix}
	}
	return nil
}

// identUse is one use of a variable with its two nearest ancestors.
type identUse struct {
	id              *ast.Ident
	parent, gparent ast.Node
}

// usesOf returns every use of v in the package.
func (c *checker) usesOf(v types.Object) []identUse {
	if c.uses == nil {
		c.uses = map[types.Object][]identUse{}
		c.inspect.WithStack([]ast.Node{(*ast.Ident)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
			if push {
				id := n.(*ast.Ident)
				if obj := c.pass.TypesInfo.Uses[id]; obj != nil {
					c.uses[obj] = append(c.uses[obj], identUse{id, parent(stack, 1), parent(stack, 2)})
				}
			}
			return true
		})
	}
	return c.uses[v]
}

// qualifier returns a types.Qualifier for code in file, and false if a
// package t needs is not imported there.
func (c *checker) typeText(t types.Type, file *ast.File) (string, bool) {
	ok := true
	q := func(p *types.Package) string {
		if p == c.pass.Pkg {
			return ""
		}
		name := importName(file, p.Path(), p.Name())
		if name == "" {
			ok = false
			return p.Name()
		}
		return name
	}
	s := types.TypeString(t, q)
	return s, ok
}

// importName returns the name under which file imports path, or "".
func importName(file *ast.File, path, defaultName string) string {
	if file == nil {
		return ""
	}
	for _, imp := range file.Imports {
		if p, err := strconv.Unquote(imp.Path.Value); err == nil && p == path {
			if imp.Name != nil {
				if imp.Name.Name == "_" || imp.Name.Name == "." {
					return ""
				}
				return imp.Name.Name
			}
			return defaultName
		}
	}
	return ""
}

func (c *checker) decoName(pos token.Pos) string {
	return importName(c.fileOf(pos), decoPath, "deco")
}

// simple reports whether e can be evaluated twice without a difference.
func simple(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident, *ast.BasicLit:
		return true
	case *ast.SelectorExpr:
		return simple(e.X)
	}
	return false
}

func (c *checker) assignFix(t *task, as *ast.AssignStmt, ix *ast.IndexExpr, m *types.Var) *analysis.SuggestedFix {
	lit := t.lit
	if t.depth != 0 || lit == nil || lit.Type.Results != nil || len(lit.Body.List) == 0 || lit.Body.List[len(lit.Body.List)-1] != ast.Stmt(as) {
		return nil
	}
	newCtor := map[string]string{"Concurrent": "ConcurrentValue", "ConcurrentCtx": "ConcurrentCtxValue"}[t.d.name]
	ctorID, ok := ast.Unparen(t.d.call.Fun).(*ast.SelectorExpr)
	if newCtor == "" || !ok {
		return nil
	}
	info := c.pass.TypesInfo
	// The key is the call's argument itself.
	key, ok := ast.Unparen(ix.Index).(*ast.Ident)
	if !ok {
		return nil
	}
	if kv, ok := info.Uses[key].(*types.Var); !ok || !t.argVars[kv] || !isLastParam(info, lit.Type, key) {
		return nil
	}
	// The map appears nowhere else in the task, and nothing returns.
	bad := false
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			bad = true
		case *ast.Ident:
			if info.Uses[n] == m && n != ast.Unparen(ix.X) {
				bad = true
			}
		}
		return !bad
	})
	if bad {
		return nil
	}
	// The decorated function is a variable set once, here.
	fv := c.assignedVar(t.d.call)
	if fv == nil || len(c.defs[fv]) != 1 {
		return nil
	}
	file := c.fileOf(as.Pos())
	elem, ok := c.typeText(m.Type().(*types.Map).Elem(), file)
	deco := c.decoName(as.Pos())
	if !ok || deco == "" {
		return nil
	}
	edits := []analysis.TextEdit{
		{Pos: ctorID.Sel.Pos(), End: ctorID.Sel.End(), NewText: []byte(newCtor)},
		{Pos: lit.Type.Params.End(), End: lit.Type.Params.End(), NewText: []byte(" " + elem)},
		{Pos: as.Pos(), End: as.End(), NewText: []byte("return " + c.text(as.Rhs[0]))},
	}
	for _, u := range c.usesOf(fv) {
		sel, ok := u.parent.(*ast.SelectorExpr)
		if !ok || sel.X != u.id {
			return nil
		}
		call, _ := u.gparent.(*ast.CallExpr)
		method := c.decoMethodOf(sel, "Func")
		switch {
		case method == "Wait" && call != nil && call.Fun == sel:
			// Its results become the values; callers that ignore them
			// compile unchanged, others are left alone.
			if !c.resultsIgnored(call) {
				return nil
			}
		case (method == "Go" || method == "GoContext") && call != nil && call.Fun == sel:
			if !c.isStatement(call) || !visibleAs(c.pass.Pkg, m, call.Pos()) {
				return nil
			}
			arg := call.Args[len(call.Args)-1]
			if !simple(arg) {
				return nil
			}
			a := c.text(arg)
			text := fmt.Sprintf("%s.Assign(%s, %s, %s, %s)", deco, m.Name(), a, u.id.Name, a)
			if method == "GoContext" {
				text = fmt.Sprintf("%s.AssignContext(%s, %s, %s, %s, %s)", deco, c.text(call.Args[0]), m.Name(), a, u.id.Name, a)
			}
			edits = append(edits, analysis.TextEdit{Pos: call.Pos(), End: call.End(), NewText: []byte(text)})
		default:
			return nil
		}
	}
	return &analysis.SuggestedFix{
		Message:   fmt.Sprintf("Return the value and fill %s with %s.Assign", m.Name(), deco),
		TextEdits: edits,
	}
}

func isLastParam(info *types.Info, ft *ast.FuncType, id *ast.Ident) bool {
	if ft.Params == nil || len(ft.Params.List) == 0 {
		return false
	}
	last := ft.Params.List[len(ft.Params.List)-1]
	return len(last.Names) > 0 && info.Defs[last.Names[len(last.Names)-1]] == info.Uses[id]
}

// assignedVar returns the variable call's value is assigned to, if it is
// the single right-hand side of a definition or assignment.
func (c *checker) assignedVar(call *ast.CallExpr) *types.Var {
	for v, vals := range c.defs {
		for _, val := range vals {
			if val != nil && ast.Unparen(val) == ast.Expr(call) {
				return v
			}
		}
	}
	return nil
}

// resultsIgnored reports whether the Wait call's results are dropped or
// only its error is used.
func (c *checker) resultsIgnored(call *ast.CallExpr) bool {
	found := false
	ok := false
	for _, f := range c.pass.Files {
		if f.FileStart > call.Pos() || call.Pos() > f.FileEnd {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if found {
				return false
			}
			switch n := n.(type) {
			case *ast.ExprStmt:
				if n.X == ast.Expr(call) {
					found, ok = true, true
				}
			case *ast.DeferStmt:
				if n.Call == call {
					found, ok = true, true
				}
			case *ast.AssignStmt:
				if len(n.Rhs) == 1 && n.Rhs[0] == ast.Expr(call) {
					found, ok = true, len(n.Lhs) == 2 && isBlank(n.Lhs[0])
				}
			}
			return true
		})
	}
	return ok
}

// isStatement reports whether call is an expression statement.
func (c *checker) isStatement(call *ast.CallExpr) bool {
	found := false
	f := c.fileOf(call.Pos())
	ast.Inspect(f, func(n ast.Node) bool {
		if es, ok := n.(*ast.ExprStmt); ok && es.X == ast.Expr(call) {
			found = true
		}
		return !found
	})
	return found
}

// visibleAs reports whether v's name means v at pos.
func visibleAs(pkg *types.Package, v *types.Var, pos token.Pos) bool {
	s := pkg.Scope().Innermost(pos)
	if s == nil {
		return false
	}
	_, obj := s.LookupParent(v.Name(), pos)
	return obj == v
}

func (c *checker) mapFix(m *types.Var) *analysis.SuggestedFix {
	info := c.pass.TypesInfo
	mt := m.Type().(*types.Map)
	edits := map[token.Pos]analysis.TextEdit{}
	edit := func(pos, end token.Pos, text string) {
		edits[pos] = analysis.TextEdit{Pos: pos, End: end, NewText: []byte(text)}
	}
	mapType := func(pos token.Pos) (string, bool) {
		file := c.fileOf(pos)
		deco := importName(file, decoPath, "deco")
		k, ok1 := c.typeText(mt.Key(), file)
		v, ok2 := c.typeText(mt.Elem(), file)
		if deco == "" || !ok1 || !ok2 {
			return "", false
		}
		return fmt.Sprintf("%s.Map[%s, %s]", deco, k, v), true
	}
	done := map[*types.Var]bool{}
	queue := []*types.Var{m}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		if done[v] {
			continue
		}
		done[v] = true
		if len(done) > 20 || v.Pkg() != c.pass.Pkg || !types.Identical(v.Type(), mt) {
			return nil
		}
		if _, named := v.Type().(*types.Named); named {
			return nil
		}
		// Its declaration.
		more, ok := c.declEdit(v, mapType, edit)
		if !ok {
			return nil
		}
		queue = append(queue, more...)
		// Its uses.
		for _, u := range c.usesOf(v) {
			switch p := u.parent.(type) {
			case *ast.IndexExpr:
				as, ok := u.gparent.(*ast.AssignStmt)
				if p.X != u.id || !ok || len(as.Rhs) != 1 {
					return nil
				}
				switch {
				case as.Tok == token.ASSIGN && len(as.Lhs) == 1 && as.Lhs[0] == ast.Expr(p):
					edit(as.Pos(), as.End(), fmt.Sprintf("%s.Set(%s, %s)", u.id.Name, c.text(p.Index), c.text(as.Rhs[0])))
				case len(as.Lhs) == 2 && as.Rhs[0] == ast.Expr(p):
					edit(p.Pos(), p.End(), fmt.Sprintf("%s.Get(%s)", u.id.Name, c.text(p.Index)))
				default:
					return nil
				}
			case *ast.RangeStmt:
				if p.X != u.id {
					return nil
				}
				edit(u.id.End(), u.id.End(), ".All()")
			case *ast.CallExpr:
				if b, ok := typeutil.Callee(info, p).(*types.Builtin); ok && b.Name() == "len" {
					edit(p.Pos(), p.End(), u.id.Name+".Len()")
					continue
				}
				pv := c.paramFor(p, u.id)
				if pv == nil {
					return nil
				}
				queue = append(queue, pv)
			default:
				return nil
			}
		}
	}
	list := make([]analysis.TextEdit, 0, len(edits))
	for _, e := range edits {
		list = append(list, e)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Pos < list[j].Pos })
	text, _ := mapType(m.Pos())
	return &analysis.SuggestedFix{
		Message:   fmt.Sprintf("Make %s a *%s, which tasks may write into", m.Name(), text),
		TextEdits: list,
	}
}

// paramFor returns the parameter of a function of this package that call
// passes arg to, or nil.
func (c *checker) paramFor(call *ast.CallExpr, arg ast.Expr) *types.Var {
	fn, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return nil
	}
	f, ok := c.pass.TypesInfo.Uses[fn].(*types.Func)
	if !ok || c.funcs[f] == nil || c.funcs[f].Recv != nil || f.Signature().Variadic() {
		return nil
	}
	for i, a := range call.Args {
		if a == arg {
			return f.Signature().Params().At(i)
		}
	}
	return nil
}

// declEdit rewrites v's declaration to a *deco.Map: a parameter's type, or
// a variable's initial value. For a parameter, it returns the variables
// every call passes to it, which must become Maps too.
func (c *checker) declEdit(v *types.Var, mapType func(token.Pos) (string, bool), edit func(pos, end token.Pos, text string)) ([]*types.Var, bool) {
	info := c.pass.TypesInfo
	typ, ok := mapType(v.Pos())
	if !ok {
		return nil, false
	}
	// A parameter of a function of this package.
	for f, fd := range c.funcs {
		if fd.Type.Params == nil || v.Pos() < fd.Type.Params.Pos() || v.Pos() >= fd.Type.Params.End() {
			continue
		}
		if fd.Recv != nil {
			return nil, false
		}
		idx := -1
		for i, p := range flatParams(fd.Type) {
			if len(p.field.Names) > 0 && info.Defs[p.field.Names[p.idx]] == v {
				if len(p.field.Names) != 1 {
					return nil, false
				}
				if _, ok := p.field.Type.(*ast.MapType); !ok {
					return nil, false
				}
				idx = i
				edit(p.field.Type.Pos(), p.field.Type.End(), "*"+typ)
			}
		}
		if idx < 0 {
			return nil, false
		}
		var more []*types.Var
		for _, u := range c.usesOf(f) {
			call, ok := u.parent.(*ast.CallExpr)
			if !ok || call.Fun != ast.Expr(u.id) || idx >= len(call.Args) {
				return nil, false // used as a value: its type would change
			}
			id, ok := ast.Unparen(call.Args[idx]).(*ast.Ident)
			if !ok {
				return nil, false
			}
			av, ok := info.Uses[id].(*types.Var)
			if !ok {
				return nil, false
			}
			more = append(more, av)
		}
		return more, true
	}
	// A variable made empty, here.
	var val ast.Expr
	for _, f := range c.pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if n.Tok == token.DEFINE && len(n.Lhs) == 1 && len(n.Rhs) == 1 {
					if id, ok := n.Lhs[0].(*ast.Ident); ok && info.Defs[id] == v {
						val = n.Rhs[0]
					}
				}
			case *ast.ValueSpec:
				if len(n.Names) == 1 && len(n.Values) == 1 && info.Defs[n.Names[0]] == v {
					val = n.Values[0]
				}
			}
			return val == nil
		})
	}
	if val == nil || len(c.defs[v]) != 1 || !emptyMap(info, val) {
		return nil, false
	}
	edit(val.Pos(), val.End(), "new("+typ+")")
	return nil, true
}

// emptyMap reports whether e makes an empty map: map[K]V{} or make(map[K]V[, n]).
func emptyMap(info *types.Info, e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.CompositeLit:
		_, ok := e.Type.(*ast.MapType)
		return ok && len(e.Elts) == 0
	case *ast.CallExpr:
		b, ok := typeutil.Callee(info, e).(*types.Builtin)
		if !ok || b.Name() != "make" || len(e.Args) == 0 {
			return false
		}
		_, ok = e.Args[0].(*ast.MapType)
		return ok
	}
	return false
}
