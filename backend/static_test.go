package backend_test

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
)

var (
	prices    = deco.NewStatic[map[string]int]("backend.example.prices")
	setPrices sync.Once
	// remoteTable stands for a Static as a worker sees it: never set in
	// this process, its value comes from the executor.
	remoteTable = deco.NewStatic[[]string]("backend.example.remote")
)

// On the calling side, an executor finds the program's Statics and their
// encoded values, named by hash, to carry them to its workers.
func ExampleStatics() {
	setPrices.Do(func() { prices.Set(map[string]int{"apple": 3}) })
	for _, s := range backend.Statics() {
		if s.Name() != prices.Name() || !s.IsSet() {
			continue
		}
		enc, hash, err := s.Encoded()
		fmt.Println(s.Name(), len(enc) > 0, hash == backend.StaticHash(enc), err)
	}
	// Output: backend.example.prices true true <nil>
}

// Encoded gives the bytes an executor carries, once per value, and the
// hash that names them; the same bytes every time.
func ExampleStatic_Encoded() {
	setPrices.Do(func() { prices.Set(map[string]int{"apple": 3}) })
	s, _ := backend.LookupStatic(prices.Name())
	enc, hash, err := s.Encoded()
	again, _, _ := s.Encoded()
	var back map[string]int
	gob.NewDecoder(bytes.NewReader(enc)).Decode(&back)
	fmt.Println(back, len(hash), &again[0] == &enc[0], err)
	// Output: map[apple:3] 64 true <nil>
}

// A worker asks for a Static by name, as a worker process asks its
// parent; one never set says so.
func ExampleLookupStatic() {
	s, ok := backend.LookupStatic(remoteTable.Name())
	_, _, err := s.Encoded()
	fmt.Println(ok, err)
	// Output: true deco: Static "backend.example.remote" has no value in the calling process: call Set before the calls that read it
}

// An executor that sends a summary of the Statics with each call makes it
// again only when the version changed.
func ExampleStaticsVersion() {
	before := backend.StaticsVersion()
	deco.NewStatic[int]("backend.example.version")
	fmt.Println(backend.StaticsVersion() != before)
	// Output: true
}

// StaticHash names an encoded value, as Static.Encoded does.
func ExampleStaticHash() {
	fmt.Println(backend.StaticHash([]byte("value"))[:12])
	// Output: cd42404d52ad
}

// source serves values by hash, as an executor's worker side does after
// it received them: here from a map.
type source struct {
	hashOf map[string]string // Static name → hash of the running calls' value
	byHash map[string][]byte
}

func (s source) StaticHash(name string) (string, error) {
	h, ok := s.hashOf[name]
	if !ok {
		return "", fmt.Errorf("deco: Static %q is not carried by this executor", name)
	}
	return h, nil
}

func (s source) FetchStatic(name, hash string) ([]byte, error) {
	if b, ok := s.byHash[hash]; ok {
		return b, nil
	}
	return nil, errors.New("no such value")
}

// A worker installs its source before it serves calls; Get in a task
// there then decodes the value the source gives, once per hash.
func ExampleServeStatics() {
	// The caller's side encodes the value (gob) and names it by hash; the
	// executor carries both to the worker. (This example plays both
	// sides: remoteTable is not set in this process.)
	var buf bytes.Buffer
	gob.NewEncoder(&buf).Encode([]string{"a", "b"})
	enc := buf.Bytes()
	hash := backend.StaticHash(enc)

	backend.ServeStatics(source{
		hashOf: map[string]string{remoteTable.Name(): hash},
		byHash: map[string][]byte{hash: enc},
	})
	defer backend.ServeStatics(nil)
	fmt.Println(remoteTable.Get())
	// Output: [a b]
}

func TestLookupStaticOfAnUnknownNameReportsFalse(t *testing.T) {
	if _, ok := backend.LookupStatic("backend.test.no such Static"); ok {
		t.Fatal("LookupStatic found a Static nobody made")
	}
	if _, ok := backend.LookupStatic(remoteTable.Name()); !ok {
		t.Fatal("LookupStatic did not find a Static made at package level")
	}
}
