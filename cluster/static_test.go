package cluster_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// table is a large read-only input: 1 MiB, set once by the test process.
var (
	table    = deco.NewStatic[[]byte]("test.table")
	setTable sync.Once

	// tableSum returns the sum of the table's bytes, the PID of the
	// process it ran in and how many Statics that process fetched.
	tableSum = deco.ConcurrentValue(func(int) [3]int {
		sum := 0
		for _, b := range table.Get() {
			sum += int(b)
		}
		return [3]int{sum, os.Getpid(), int(cluster.StaticFetches())}
	}, deco.Name("test.tableSum"), deco.PanicAsError())

	unset     = deco.NewStatic[int]("test.unset")
	readUnset = deco.ConcurrentValue(func(int) int { return unset.Get() }, deco.Name("test.readUnset"), deco.PanicAsError())
)

func tableValue() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func setTableOnce() { setTable.Do(func() { table.Set(tableValue()) }) }

// tableHash is the object's name: the SHA-256 of the value's gob.
func tableHash(t *testing.T) string {
	v := tableValue()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(h[:])
}

func TestAStaticIsStoredOnceAndFetchedOncePerWorker(t *testing.T) {
	setTableOnce()
	// In-process, Get returns the value itself: the results to match.
	want, err := tableSum.Go(0).Wait()
	if err != nil {
		t.Fatal(err)
	}
	e := newLocal(t, 2)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	f := tableSum.With(deco.On(e))
	fetches := map[int]int{} // pid → fetches seen
	for round := range 2 {
		const n = 40
		for i := range n {
			f.Go(i)
		}
		got, err := f.Wait()
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			if g[0] != want[0] {
				t.Fatalf("a worker summed %d, in-process %d", g[0], want[0])
			}
			if g[1] == os.Getpid() {
				t.Fatal("a call ran in the test process")
			}
			fetches[g[1]] = max(fetches[g[1]], g[2])
		}
		// Once per value of the Statics set in this process (other tests
		// set some).
		if puts, set := e.Stats().StaticPuts, cluster.SetStatics(); puts != int64(set) {
			t.Fatalf("round %d: %d puts for %d calls with %d values of Statics set, want one each", round, puts, (round+1)*n, set)
		}
	}
	for p, n := range fetches {
		if n != 1 {
			t.Fatalf("worker %d fetched %d Statics for its calls, want the table once", p, n)
		}
	}
}

// The same task reading a deco.Static gives the same results on every
// executor, chosen by configuration alone; a Static never set fails the
// call, naming it, with the same advice on each.
func TestAStaticReadsTheSameOnEveryExecutor(t *testing.T) {
	setTableOnce()
	want := 0
	for _, b := range tableValue() {
		want += int(b)
	}
	for name, on := range executors(t) {
		t.Run(name, func(t *testing.T) {
			opt := on(t)
			f := tableSum.With(opt)
			for i := range 20 {
				f.Go(i)
			}
			got, err := f.Wait()
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range got {
				if g[0] != want {
					t.Fatalf("call %d summed %d, want %d", i, g[0], want)
				}
				if inProcess := g[1] == os.Getpid(); inProcess != (name == "in-process") {
					t.Fatalf("call %d ran in process %d (the test's: %v) on %s", i, g[1], inProcess, name)
				}
			}
			u := readUnset.With(opt)
			u.Go(0)
			_, err = u.Wait()
			const advice = `deco: Static "test.unset" has no value in the calling process: call Set before the calls that read it`
			if err == nil || !strings.Contains(err.Error(), advice) {
				t.Fatalf("reading a Static never set: err = %v, want %q", err, advice)
			}
		})
	}
}

func TestATooLargeStaticFailsTheCallsNamingIt(t *testing.T) {
	setTableOnce()
	e := newLocal(t, 1, cluster.MaxStatic(1<<10))
	_, err := square.With(deco.On(e)).Go(3).Wait()
	if err == nil || !strings.Contains(err.Error(), `Static "test.table" is 1048`) || !strings.Contains(err.Error(), "more than MaxStatic (1024 bytes)") {
		t.Fatalf("err = %v, want the table named as too large", err)
	}
}

func TestAMissingOrCorruptStaticFailsClearly(t *testing.T) {
	setTableOnce()
	srv := startServer(t, t.TempDir(), 0, "")
	url := srv.ClientURL()
	e := cluster.New(cluster.URL(url))
	t.Cleanup(func() { closeAndCheckServer(t, e, false) })
	startWorker(t, url)
	// A call that does not read the table puts it.
	if _, err := square.With(deco.On(e)).Go(3).Wait(); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	obj, err := js.ObjectStore(ctx, "deco_statics")
	if err != nil {
		t.Fatal(err)
	}
	sum := tableHash(t)
	if _, err := obj.GetInfo(ctx, sum); err != nil {
		t.Fatalf("the table is not in the object store under its hash: %v", err)
	}
	f := tableSum.With(deco.On(e))
	for _, c := range []struct {
		name  string
		spoil func() error
		want  string
	}{
		{"missing", func() error { return obj.Delete(ctx, sum) }, "not found: it expired"},
		{"corrupt", func() error { _, err := obj.PutBytes(ctx, sum, []byte("other bytes")); return err }, "corrupt: its 11 bytes have another hash"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.spoil(); err != nil {
				t.Fatal(err)
			}
			_, err := f.Go(0).Wait()
			if err == nil || !strings.Contains(err.Error(), `Static "test.table"`) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want the table named and %q", err, c.want)
			}
		})
	}
}
