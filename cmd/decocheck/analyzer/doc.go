// Package analyzer is decocheck, a [golang.org/x/tools/go/analysis]
// analyzer that reports the misuses of [github.com/deco-go/deco] that
// compile and run, and that only -race, a lost error or a hung program
// would otherwise reveal. Every diagnostic starts with the name of its rule;
// where the rewrite is mechanical it carries a suggested fix, which
// decocheck -fix applies.
//
// deco's functions are recognised through type information, by their
// package path github.com/deco-go/deco, never by the text of a name.
//
// # Rules
//
// shared-write (rule 1). A task — the function passed to deco.Concurrent or
// a sibling: a literal, a variable set once to one, a function or a method
// value — runs in many goroutines at once. Reported: inside it, an index
// assignment, delete or clear on a plain map every call shares (captured from
// outside a function literal, package-level, the receiver of a method value,
// or passed by the task to a function of the package, which is followed a
// few calls deep); an
// assignment, append included, to such a variable or to a field reached
// through it; a slice or array element written at an index that does not come
// from the call's argument. Not reported: deco.Map's methods, sync/atomic and
// other calls (a function of the package that the task passes shared data to
// is checked in turn, as above), channel sends, the task's own locals,
// writes after a mutex's Lock and before its Unlock in the same block, and
// element writes indexed by the call's argument or a variable computed from
// it (deco's rule: "all mutations may only be index based"), writes in a
// literal run once (sync.Once.Do, sync.OnceFunc), and every write of a
// function decorated with deco.Limit(1), whose calls run one after the
// other. Fixes, for
// m[k] = v: to deco.Assign when the write is the task's last statement keyed
// by its argument (the task returns v, each f.Go(x) becomes
// deco.Assign(m, x, f, x)), otherwise to a *deco.Map when every use of the
// map, and of the parameters it is passed to, can become Set, Get, All or Len.
//
// detached-call (rule 2). Inside a deco.Synchronized body that names its
// context, f.Go(x), deco.Assign(...), deco.AssignTo(...) or the call function
// of Func.Split start calls that belong to f's batch, not to the scope:
// Synchronized returns without waiting for them. Not reported when the body
// itself waits for f (f.Wait, Completed, InOrder). Fixes: f.GoContext(ctx, x),
// deco.AssignContext(ctx, ...), deco.AssignToContext(ctx, ...).
//
// dropped-error (rule 3). Func.Wait, or the wait function of Split, deferred,
// run with go, called as a statement or with its error assigned to _, for a
// function decorated as one that can fail (ConcurrentErr, ConcurrentResult and
// their Ctx forms): that wait is the only place the calls' errors go. Not
// reported when every return of the function is nil, or when the calls'
// Futures are kept (each Future.Wait reports its call's error).
//
// never-waited (rule 4, a warning). Calls started with Go, Assign, AssignTo or
// a Split call function, of a Func variable that nothing waits for (Wait,
// Completed, InOrder, Split's wait) — only for variables whose every use is
// seen: local or unexported, never passed, returned or stored, never used
// with a context (which may be a scope's). Not reported in a main package
// whose main calls deco.WaitAll, nor where the starting function calls it.
// When every call is waited through its Future (f.Go(x).Wait(), or
// fut := f.Go(x) then fut.Wait()), nothing is lost, and the message says
// what happens instead: the batch stays open, keeping every call's result
// and error, and the pool's workers stay parked, until Func.Wait or WaitAll.
//
// cannot-cross (rule 5). A function decorated with deco.Name or deco.On may
// run in another process (On, or DECO_EXECUTOR for every named function),
// its argument and result encoded with encoding/gob. Reported: argument or
// result types holding a channel, a func or an unsafe.Pointer, or a struct
// with an unexported field (gob would drop it silently), unless the type
// encodes itself (GobEncode, MarshalBinary, MarshalText: time.Time); a
// deco.Map is looked into through its keys and values, interfaces are not.
// Also reported: deco.On(e), with e of another package (such as
// process.New(4)), anywhere but while the program starts (as for
// deco.NewStatic below), since worker processes find functions by the name
// given then. For a deco.Static, whose
// value an executor carries to its workers, reported: a type argument of
// deco.NewStatic that cannot cross, by the same check, and deco.NewStatic
// called anywhere but while the program starts (in main or a function it
// calls, a method, a function literal not called where it is written, a
// goroutine), since a worker process or cluster worker finds a Static by
// its name, registered while the program starts: the calls that read it
// fail on an executor. Not reported: in a package-level variable's
// initialiser, in an init function, and in an unexported function (or
// any function of package main) used only by calls made there, such as
// var table = newTable().
//
// # Silencing
//
// A comment //decocheck:ignore reason, at the end of the diagnostic's line or
// alone on the line above, silences that one diagnostic (rule 6); the reason
// is required, and a directive without one is reported. Tests that race on
// purpose — to show that the race detector catches a mistake — mark the line
// this way, or the whole run skips _test.go files with -skiptests
// (go vet -vettool=$(which decocheck) -skiptests ./...).
//
// # Running it
//
//	go install github.com/deco-go/deco/cmd/decocheck@latest
//	decocheck ./...                           # report
//	decocheck -fix ./...                      # and apply the suggested fixes
//	go vet -vettool=$(which decocheck) ./...  # as go vet's tool: its rules only
//
// gopls runs only the analyzers built into it: it has no way to load a
// third-party analyzer, so decocheck's diagnostics do not appear through
// gopls itself. golangci-lint can run it: package
// [github.com/deco-go/deco/cmd/decocheck/gclplugin] registers it as the
// module plugin "decocheck", which `golangci-lint custom` builds into a
// golangci-lint binary of its own; editors that run golangci-lint as their
// lint tool (VS Code's Go extension, with go.lintTool) show its diagnostics
// when pointed at that binary.
package analyzer
