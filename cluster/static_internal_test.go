package cluster

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
)

// A worker runs at once only calls whose Statics have the same values: a
// call with other values waits until those end, then sees its own.
func TestABindingWaitsForCallsOfOtherValues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b binding
		ctx := context.Background()
		a := map[string]string{"s": "aaaa"}
		if err := b.bind(ctx, "s=aaaa", a); err != nil {
			t.Fatal(err)
		}
		if err := b.bind(ctx, "s=aaaa", a); err != nil { // same values: at once
			t.Fatal(err)
		}
		bound := make(chan error, 1)
		go func() { bound <- b.bind(ctx, "s=bbbb", map[string]string{"s": "bbbb"}) }()
		synctest.Wait()
		select {
		case err := <-bound:
			t.Fatalf("a call of other values bound while two others ran (err %v)", err)
		default:
		}
		if sum, _ := b.lookup("s"); sum != "aaaa" {
			t.Fatalf("lookup = %q during the first calls", sum)
		}
		b.unbind()
		synctest.Wait()
		if len(bound) != 0 {
			t.Fatal("bound while one call of other values still ran")
		}
		b.unbind()
		if err := <-bound; err != nil {
			t.Fatal(err)
		}
		if sum, _ := b.lookup("s"); sum != "bbbb" {
			t.Fatalf("lookup = %q for the waiting call, want its own value", sum)
		}
		// A call cancelled while it waits gives up.
		cctx, cancel := context.WithCancel(ctx)
		go func() { bound <- b.bind(cctx, "s=cccc", map[string]string{"s": "cccc"}) }()
		synctest.Wait()
		cancel()
		if err := <-bound; err == nil {
			t.Fatal("a cancelled wait bound")
		}
		b.unbind()
		if _, ok := b.lookup("s"); ok {
			t.Fatal("a Static bound with no call running")
		}
	})
}

// A worker parses a Deco-Statics header once while its calls carry the
// same one, and again when it changes.
func TestAWorkerParsesTheSameStaticsHeaderOnce(t *testing.T) {
	w := &worker{}
	a, err := w.refsOf("s=aaaa&t=")
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.refsOf("s=aaaa&t=")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%p", a) != fmt.Sprintf("%p", again) {
		t.Errorf("the same header was parsed again")
	}
	b, err := w.refsOf("s=bbbb&t=")
	if err != nil {
		t.Fatal(err)
	}
	if b["s"] != "bbbb" || a["s"] != "aaaa" || len(b) != 2 {
		t.Errorf("parses %v then %v, want s=aaaa then s=bbbb, and t", a, b)
	}
	if _, err := w.refsOf("s=%zz"); err == nil {
		t.Errorf("a malformed header parsed")
	}
}
