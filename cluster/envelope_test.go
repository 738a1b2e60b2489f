package cluster

import (
	"bytes"
	"testing"
)

func TestEnvelopeCarriesTheRunTimes(t *testing.T) {
	e := &envelope{kind: kindOutcome, worker: "h:1", arg: "ab", start: 1_700_000_000_000_000_000, end: 1_700_000_000_500_000_000, outcome: []byte("out")}
	got, err := decodeEnvelope(e.encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.worker != "h:1" || got.start != e.start || got.end != e.end || !bytes.Equal(got.outcome, e.outcome) {
		t.Fatalf("decoded %+v, want %+v", got, e)
	}
	// A result of a version 1 worker: no times, the outcome intact.
	v1 := append([]byte{1, kindOutcome, 3, 'h', ':', '1', 0, 0, 0, 0}, "out"...)
	got, err = decodeEnvelope(v1)
	if err != nil {
		t.Fatal(err)
	}
	if got.worker != "h:1" || got.start != 0 || got.end != 0 || string(got.outcome) != "out" {
		t.Fatalf("version 1 decoded as %+v", got)
	}
	for _, bad := range [][]byte{{3, kindOutcome}, {0, kindOutcome}, e.encode()[:12]} {
		if _, err := decodeEnvelope(bad); err == nil {
			t.Fatalf("decodeEnvelope(%v) accepted", bad)
		}
	}
}
