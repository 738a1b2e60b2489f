package analyzer

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/types/typeutil"
)

// decoPath is the import path of the package whose calls decocheck checks.
// deco's functions are recognised by this path through type information,
// never by the text of a name, so renamed and dot imports are seen too.
const decoPath = "github.com/deco-go/deco"

// A shape is what a Concurrent* constructor says about its function.
type shape struct {
	ctx     bool // the function takes a leading context.Context
	canFail bool // the function returns an error
	result  bool // the function returns a value
}

var constructors = map[string]shape{
	"Concurrent":          {},
	"ConcurrentErr":       {canFail: true},
	"ConcurrentValue":     {result: true},
	"ConcurrentResult":    {result: true, canFail: true},
	"ConcurrentCtx":       {ctx: true},
	"ConcurrentCtxErr":    {ctx: true, canFail: true},
	"ConcurrentCtxValue":  {ctx: true, result: true},
	"ConcurrentCtxResult": {ctx: true, result: true, canFail: true},
}

// decoFunc returns the name of the package-level deco function call calls,
// or "".
func (c *checker) decoFunc(call *ast.CallExpr) string {
	fn, ok := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != decoPath {
		return ""
	}
	if fn.Signature().Recv() != nil {
		return ""
	}
	return fn.Name()
}

// decoMethod returns the receiver expression and the method's name when
// call calls a method of deco's type typeName (such as "Func"), or nil, "".
func (c *checker) decoMethod(call *ast.CallExpr, typeName string) (ast.Expr, string) {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return nil, ""
	}
	if name := c.decoMethodOf(sel, typeName); name != "" {
		return sel.X, name
	}
	return nil, ""
}

// decoMethodOf returns the method's name when sel selects a method of deco's
// type typeName, called or not.
func (c *checker) decoMethodOf(sel *ast.SelectorExpr, typeName string) string {
	s, ok := c.pass.TypesInfo.Selections[sel]
	if !ok || s.Kind() == types.FieldVal {
		return ""
	}
	fn, ok := s.Obj().(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != decoPath {
		return ""
	}
	recv := fn.Signature().Recv()
	if recv == nil {
		return ""
	}
	t := recv.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := t.(*types.Named); !ok || n.Origin().Obj().Name() != typeName {
		return ""
	}
	return fn.Name()
}

// isDecoType reports whether t is deco's type name, or a pointer to it.
func isDecoType(t types.Type, name string) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	if !ok {
		return false
	}
	obj := n.Origin().Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == decoPath && obj.Name() == name
}

// A decoration is a call of a Concurrent* constructor.
type decoration struct {
	call  *ast.CallExpr
	name  string // Concurrent, ConcurrentErr, ...
	shape shape
}

// decorationOf returns the decoration e evaluates to: a constructor call,
// Func.With of one, or a variable only ever set to one. It returns nil when
// e's origin is unknown, such as a parameter.
func (c *checker) decorationOf(e ast.Expr) *decoration {
	return c.decorationOfDepth(e, 0)
}

func (c *checker) decorationOfDepth(e ast.Expr, depth int) *decoration {
	if depth > 8 {
		return nil
	}
	switch e := ast.Unparen(e).(type) {
	case *ast.CallExpr:
		if name := c.decoFunc(e); name != "" {
			if s, ok := constructors[name]; ok {
				return &decoration{call: e, name: name, shape: s}
			}
			return nil
		}
		if recv, m := c.decoMethod(e, "Func"); m == "With" {
			return c.decorationOfDepth(recv, depth+1)
		}
	case *ast.Ident:
		v, ok := c.pass.TypesInfo.Uses[e].(*types.Var)
		if !ok {
			return nil
		}
		return c.decorationOfVar(v, depth+1)
	}
	return nil
}

// decorationOfVar returns the decoration v is always set to, or nil.
func (c *checker) decorationOfVar(v *types.Var, depth int) *decoration {
	vals, ok := c.defs[v]
	if !ok || len(vals) == 0 {
		return nil
	}
	var d *decoration
	for _, val := range vals {
		if val == nil {
			return nil
		}
		dv := c.decorationOfDepth(val, depth)
		if dv == nil || (d != nil && dv.shape != d.shape) {
			return nil
		}
		if d == nil {
			d = dv
		}
	}
	return d
}

// A splitPart is a variable set from Func.Split: its call or its wait.
type splitPart struct {
	recv ast.Expr // the Func whose Split it is
	wait bool     // the wait function, not the call function
	at   token.Pos
}

// collect indexes the package: its functions with bodies, the values
// assigned to each variable, and the variables set from Func.Split.
func (c *checker) collect() {
	info := c.pass.TypesInfo
	for _, f := range c.pass.Files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				if fn, ok := info.Defs[fd.Name].(*types.Func); ok {
					c.funcs[fn] = fd
				}
			}
		}
	}
	varOf := func(e ast.Expr) *types.Var {
		id, ok := ast.Unparen(e).(*ast.Ident)
		if !ok {
			return nil
		}
		if v, ok := info.Defs[id].(*types.Var); ok {
			return v
		}
		v, _ := info.Uses[id].(*types.Var)
		return v
	}
	record := func(lhs, rhs []ast.Expr) {
		if len(lhs) == len(rhs) {
			for i, l := range lhs {
				if v := varOf(l); v != nil {
					c.defs[v] = append(c.defs[v], rhs[i])
				}
			}
			return
		}
		if len(rhs) == 1 && len(lhs) == 2 {
			if call, ok := ast.Unparen(rhs[0]).(*ast.CallExpr); ok {
				if recv, m := c.decoMethod(call, "Func"); m == "Split" {
					for i, l := range lhs {
						if v := varOf(l); v != nil {
							c.splits[v] = splitPart{recv: recv, wait: i == 1, at: call.Pos()}
							c.defs[v] = append(c.defs[v], nil)
						}
					}
					return
				}
			}
		}
		for _, l := range lhs {
			if v := varOf(l); v != nil {
				c.defs[v] = append(c.defs[v], nil)
			}
		}
	}
	c.inspect.Preorder([]ast.Node{(*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil), (*ast.RangeStmt)(nil), (*ast.UnaryExpr)(nil)}, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.AssignStmt:
			record(n.Lhs, n.Rhs)
		case *ast.ValueSpec:
			lhs := make([]ast.Expr, len(n.Names))
			for i, id := range n.Names {
				lhs[i] = id
			}
			if len(n.Values) > 0 {
				record(lhs, n.Values)
			}
		case *ast.RangeStmt:
			record([]ast.Expr{n.Key, n.Value}, nil)
		case *ast.UnaryExpr:
			// A variable whose address is taken may be set through it.
			if n.Op == token.AND {
				record([]ast.Expr{n.X}, nil)
			}
		}
	})
}
