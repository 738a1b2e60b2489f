package deco_test

import (
	"context"
	"strings"
	"testing"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
)

func TestInvokeOfAnUnknownNameListsTheNames(t *testing.T) {
	_, err := backend.Invoke(context.Background(), "no such function", nil)
	for _, want := range []string{`no function is named "no such function"`, "deco_test.panicsAcross", "package level"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to contain %q", err, want)
		}
	}
}

// named decorates through a helper, as a package might: the first caller
// outside deco is this line for every function it makes.
func namedVia(n string, fn func(int) int) *deco.Func[int, int] {
	return deco.ConcurrentValue(fn, deco.Name(n), deco.On(viaBytes{}))
}

func TestDuplicateNamesThroughAHelperAreRefused(t *testing.T) {
	double := namedVia("TestDuplicateNamesThroughAHelperAreRefused", func(x int) int { return 2 * x })
	mustPanic(t, `Name("TestDuplicateNamesThroughAHelperAreRefused") is already taken`, func() {
		namedVia("TestDuplicateNamesThroughAHelperAreRefused", func(x int) int { return 3 * x })
	})
	double.Go(5)
	if got, err := double.Wait(); err != nil || got[0] != 10 {
		t.Fatalf("double.Go(5) = %v, %v; want 10", got, err)
	}
}
