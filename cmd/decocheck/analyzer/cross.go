package analyzer

import (
	"fmt"
	"go/ast"
	"go/types"
)

// Rule 5, cannot-cross: a function decorated with deco.On(...) or
// deco.Name(...) may run in another process (On, or DECO_EXECUTOR for every
// named function), where its argument and result travel through
// encoding/gob: the rules deco's own check applies when such a function
// moves to an executor. Reported: an argument or result type that holds a
// chan, a func or an unsafe.Pointer, or a struct with an unexported field
// (gob would drop it silently); types with their own GobEncode,
// MarshalBinary or MarshalText (time.Time) cross as they choose and are not
// looked into, and a deco.Map is checked through its keys and values.
// Interfaces are not looked into: their dynamic types are known at run time.
// Also reported: a decoration with deco.On(e), for an executor e of another
// package (such as process.New(4)), where it runs after the program
// starts (see runsAfterStart: init functions, and helpers only startup code
// calls, are not reported), since worker processes find functions by the
// name given while the program starts. A deco.Name alone inside a body is not reported: it is
// how functions get names in stats and errors, and it fails only when
// DECO_EXECUTOR moves named functions to workers.

func (c *checker) cannotCross() {
	c.inspect.WithStack([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		call := n.(*ast.CallExpr)
		if _, ok := constructors[c.decoFunc(call)]; !ok {
			return true
		}
		opt := ""
		var foreignExecutor ast.Expr // the argument of On, when its type is another package's
		for _, a := range call.Args[1:] {
			if oc, ok := ast.Unparen(a).(*ast.CallExpr); ok {
				if name := c.decoFunc(oc); name == "On" || name == "Name" {
					if opt == "" || name == "On" {
						opt = "deco." + name
					}
					if name == "On" && len(oc.Args) == 1 && c.foreignType(oc.Args[0]) {
						foreignExecutor = oc.Args[0]
					}
				}
			}
		}
		if opt == "" {
			return true
		}
		if foreignExecutor != nil {
			// Where it is decorated counts as for deco.NewStatic: init and
			// the helpers only startup code calls run in every process.
			if where := c.runsAfterStart(stack); where != "" {
				c.report(call, ruleCannotCross, nil,
					"%s is decorated with deco.On(%s) inside %s: a worker process finds a function by the name it was given while the program starts, so decorate it at package level (var f = deco.%s(...)) or in init, or the workers will fail its calls with \"no function is named\"",
					c.taskName(&decoration{call: call}), c.text(foreignExecutor), where, c.decoFunc(call))
			}
		}
		ft, ok := c.pass.TypesInfo.TypeOf(call).(*types.Pointer)
		if !ok {
			return true
		}
		named, ok := ft.Elem().(*types.Named)
		if !ok || named.TypeArgs().Len() != 2 {
			return true
		}
		for i, role := range []string{"argument", "result"} {
			t := named.TypeArgs().At(i)
			if problem := crossProblem(t, types.TypeString(t, types.RelativeTo(c.pass.Pkg)), map[types.Type]bool{}, types.RelativeTo(c.pass.Pkg)); problem != "" {
				c.report(call.Args[0], ruleCannotCross, nil,
					"%s is decorated with %s, so its calls may run in another process, but its %s type %s cannot cross to another process: %s",
					c.taskName(&decoration{call: call}), opt, role, types.TypeString(t, types.RelativeTo(c.pass.Pkg)), problem)
				break
			}
		}
		return true
	})
}

// foreignType reports whether e's type (after pointers) is declared in
// another package than this one: an executor of a backend package such as
// process, whose workers are other processes. An executor of the package's
// own (a test's in-process fake) is not assumed to be one.
func (c *checker) foreignType(e ast.Expr) bool {
	t := c.pass.TypesInfo.TypeOf(e)
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg() != c.pass.Pkg
}

// crossProblem says why gob cannot carry a value of type t whole, or "".
// path names t's place in the argument, for the message.
func crossProblem(t types.Type, path string, seen map[types.Type]bool, q types.Qualifier) string {
	if seen[t] {
		return ""
	}
	seen[t] = true
	// A deco.Map crosses by its own encoding, with its keys and values.
	if n, ok := derefNamed(t); ok && isDecoType(n, "Map") && n.TypeArgs().Len() == 2 {
		if p := crossProblem(n.TypeArgs().At(0), path+"[key]", seen, q); p != "" {
			return p
		}
		return crossProblem(n.TypeArgs().At(1), path+"[k]", seen, q)
	}
	if marshals(t) {
		return ""
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		if u.Kind() == types.UnsafePointer {
			return path + " is an unsafe.Pointer, which cannot be sent to another process"
		}
	case *types.Chan:
		return path + " is a chan, which cannot be sent to another process"
	case *types.Signature:
		return path + " is a func, which cannot be sent to another process (nor can a closure)"
	case *types.Pointer:
		return crossProblem(u.Elem(), path, seen, q)
	case *types.Slice:
		return crossProblem(u.Elem(), path+"[i]", seen, q)
	case *types.Array:
		return crossProblem(u.Elem(), path+"[i]", seen, q)
	case *types.Map:
		if p := crossProblem(u.Key(), path+" key", seen, q); p != "" {
			return p
		}
		return crossProblem(u.Elem(), path+"[k]", seen, q)
	case *types.Struct:
		for i := range u.NumFields() {
			f := u.Field(i)
			if !f.Exported() {
				return fmt.Sprintf("field %s.%s is unexported, and gob would drop it silently (export it, or give %s a GobEncode method)", path, f.Name(), types.TypeString(t, q))
			}
			if p := crossProblem(f.Type(), path+"."+f.Name(), seen, q); p != "" {
				return p
			}
		}
	}
	return ""
}

func derefNamed(t types.Type) (*types.Named, bool) {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	return n, ok
}

// marshals reports whether t or *t has a method gob encodes it with.
func marshals(t types.Type) bool {
	for _, name := range []string{"GobEncode", "MarshalBinary", "MarshalText"} {
		for _, tt := range []types.Type{t, types.NewPointer(t)} {
			if _, ok := t.(*types.Pointer); ok && tt != t {
				continue
			}
			obj, _, _ := types.LookupFieldOrMethod(tt, true, nil, name)
			if _, ok := obj.(*types.Func); ok {
				return true
			}
		}
	}
	return false
}
