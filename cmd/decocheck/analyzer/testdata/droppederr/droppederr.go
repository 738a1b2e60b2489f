// Package droppederr holds rule 3 (dropped-error): waits that lose the
// errors of functions that can fail.
package droppederr

import (
	"context"
	"errors"

	"github.com/deco-go/deco"
)

func check(i int) error {
	if i < 0 {
		return errors.New("negative")
	}
	return nil
}

func parse(s string) (int, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	return len(s), nil
}

func fetch(ctx context.Context, url string) (string, error) { return url, ctx.Err() }

var checkAll = deco.ConcurrentErr(check)

func reported() {
	f := deco.ConcurrentErr(check)
	defer f.Wait() // want `dropped-error: f.Wait\(\) is deferred, so the errors of check's calls are lost: this wait is the only place they go`
	f.Go(-1)

	g, wait := deco.ConcurrentResult(parse).Split()
	defer wait() // want `dropped-error: wait\(\), the wait of deco.ConcurrentResult\(parse\).Split\(\), is deferred`
	g("x")

	h := deco.ConcurrentCtxResult(fetch).With(deco.Limit(2))
	h.Go("a")
	res, _ := h.Wait() // want `dropped-error: h.Wait\(\) has its error assigned to _`
	_ = res

	checkAll.Go(1)
	checkAll.Wait() // want `dropped-error: checkAll.Wait\(\) is called as a statement`

	lit := deco.ConcurrentErr(func(i int) error { return check(i) })
	lit.Go(1)
	go lit.Wait() // want `dropped-error: lit.Wait\(\) is run with go, so the errors of the function literal at line \d+'s calls are lost`
}

func allowed() error {
	// Functions that cannot fail: nothing to lose (the project's examples).
	slow, wait := deco.Concurrent(func(string) {}).Split()
	defer wait()
	slow("1")
	sq := deco.ConcurrentValue(func(i int) int { return i * i })
	sq.Go(1)
	results, _ := sq.Wait()
	_ = results

	// Errors checked.
	f := deco.ConcurrentErr(check)
	f.Go(1)
	if _, err := f.Wait(); err != nil {
		return err
	}
	g, gwait := deco.ConcurrentResult(parse).Split()
	g("x")
	_, err := gwait()
	if err != nil {
		return err
	}

	// A function whose every return is nil cannot fail: nothing to lose.
	never := deco.ConcurrentErr(func(int) error { return nil })
	never.Go(1)
	never.Wait()

	// Futures kept: each call's error comes from its Future.
	k := deco.ConcurrentErr(check)
	fut := k.Go(-1)
	k.Wait()
	if _, err := fut.Wait(); err != nil {
		return err
	}
	return waitParam(f)
}

// A Func from elsewhere: its shape is unknown, so nothing is said.
func waitParam(f *deco.Func[int, struct{}]) error {
	f.Wait()
	return nil
}
