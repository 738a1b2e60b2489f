package deco

import (
	"encoding/gob"
	"reflect"
	"testing"
)

type wirePoint struct{ X, Y int }

func init() { gob.Register(wirePoint{}) }

// Each message stands alone: a fresh decoder reads it, and so does a kept
// one, also when an interface value brings a type the kept encoder has not
// sent before.
func TestEveryMessageDecodesAloneAndInTurn(t *testing.T) {
	values := []any{1, "two", wirePoint{3, 4}, 5, wirePoint{6, 7}, []int{8}, nil}
	var msgs [][]byte
	for _, v := range values {
		b, err := appendValue(nil, &v)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b)
	}
	for round := range 2 { // the second round uses kept decoders
		for i, b := range msgs {
			var got any
			if err := decodeValue(b, &got); err != nil {
				t.Fatalf("round %d, value %d: %v", round, i, err)
			}
			if !reflect.DeepEqual(got, values[i]) {
				t.Fatalf("round %d, value %d: got %#v, want %#v", round, i, got, values[i])
			}
		}
	}
	// A fresh decoder of gob's own reads the message too.
	var got any
	if err := gob.NewDecoder(&sliceReader{b: msgs[4][1:]}).Decode(&got); err != nil || got != values[4] {
		t.Fatalf("a fresh gob.Decoder: %v, %v", got, err)
	}
}

func TestMalformedMessagesAreErrors(t *testing.T) {
	good, _ := appendValue(nil, &wirePoint{1, 2})
	for _, b := range [][]byte{nil, {valueGob}, {valueGob, 0x80}, good[:len(good)-1], {valueRaw, 3, 1, 2}} {
		var p wirePoint
		if err := decodeValue(b, &p); err == nil {
			t.Errorf("decodeValue(%v) = nil error", b)
		}
	}
	if _, err := decodeOutcome[int]([]byte{outResult, 200}, new(int)); err == nil {
		t.Error("a truncated outcome decoded")
	}
}

type wireNested struct {
	P    wirePoint
	Tags map[string][]wirePoint
	Ptr  *wirePoint
}

// Types without interface values use kept encoders and decoders: each
// message still carries every definition it needs.
func TestKeptCodecsMessagesStandAlone(t *testing.T) {
	var msgs [][]byte
	var values []wireNested
	for i := range 4 {
		v := wireNested{P: wirePoint{i, i}, Tags: map[string][]wirePoint{"a": {{i, 1}}}, Ptr: &wirePoint{i, 2}}
		b, err := appendValue(nil, &v)
		if err != nil {
			t.Fatal(err)
		}
		values, msgs = append(values, v), append(msgs, b)
	}
	for i, b := range msgs {
		var fresh, kept wireNested
		if err := gob.NewDecoder(&sliceReader{b: b[1:]}).Decode(&fresh); err != nil || !reflect.DeepEqual(fresh, values[i]) {
			t.Fatalf("message %d with a fresh gob.Decoder: %+v, %v", i, fresh, err)
		}
		if err := decodeValue(b, &kept); err != nil || !reflect.DeepEqual(kept, values[i]) {
			t.Fatalf("message %d with a kept decoder: %+v, %v", i, kept, err)
		}
	}
}
