// Package registry holds the process-wide state that the root package deco
// and the backend package share: the named functions, the executor
// schemes of DECO_EXECUTOR, the worker signal and the hook that describes
// a running call. It exists so that backends import
// github.com/deco-go/deco/backend and never the root package's
// internals, without an import cycle: deco and backend both import this
// package, which imports only the standard library.
package registry
