package cluster

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

func TestParsePubAckReadsWhatEncodingJSONReads(t *testing.T) {
	for _, c := range []struct {
		in   string
		seq  uint64
		dup  bool
		fail bool
	}{
		{in: `{"stream":"DECO_TASKS","seq":12}`, seq: 12},
		{in: `{"stream":"DECO_TASKS","seq":7,"duplicate":true}`, seq: 7, dup: true},
		// As nats-server v2.15.2 writes it (stream.go): a space after the colon.
		{in: `{"stream":"DECO_TASKS","seq":7,"duplicate": true}`, seq: 7, dup: true},
		{in: `{"stream":"KV_deco_results","domain":"hub","seq":18446744073709551615}`, seq: 18446744073709551615},
		{in: `{"stream":"error","seq":3}`, seq: 3},
		// Names holding the patterns, quoted as nats-server quotes them (see
		// TestParsePubAckIsNotFooledByNames).
		{in: `{"stream":"x\",\"duplicate\":true,\"seq\":9","seq":3}`, seq: 3},
		{in: `{"stream":"S","domain":"\"seq\":5,\"duplicate\": true","seq":4,"duplicate": true}`, seq: 4, dup: true},
		{in: `{"seq":3,"stream":"S"}`, seq: 3},
		{in: `{"stream":"S","seq":3 }`, seq: 3},
		{in: `{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 4"},"stream":"S","seq":0}`, fail: true},
		{in: `{"stream":"","seq":1}`, fail: true},
		{in: `not json`, fail: true},
	} {
		seq, dup, err := parsePubAck([]byte(c.in))
		if (err != nil) != c.fail || seq != c.seq || dup != c.dup {
			t.Errorf("parsePubAck(%s) = %d, %v, %v; want %d, %v, error %v", c.in, seq, dup, err, c.seq, c.dup, c.fail)
		}
		if c.fail {
			continue
		}
		var ack jetstream.PubAck
		if err := json.Unmarshal([]byte(c.in), &ack); err != nil || ack.Sequence != seq || ack.Duplicate != dup {
			t.Errorf("encoding/json reads %s as %+v, %v", c.in, ack, err)
		}
	}
	_, _, err := parsePubAck([]byte(`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 4"}}`))
	if !errors.Is(err, jetstream.ErrKeyExists) {
		t.Errorf("a wrong last sequence: %v, want it to match ErrKeyExists (as jetstream's)", err)
	}
}
