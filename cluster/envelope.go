package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// An envelope is what the results bucket holds for a call: who answered,
// how, and the outcome deco's Invoke encoded.
type envelope struct {
	kind       byte
	worker     string // host:pid of the worker that answered, or of the one that noticed MaxDeliver
	arg        string // the argument's hash, as the task carried it
	msg        string // an error's text (not kindOutcome)
	deliveries uint64 // kindKilled
	timeout    time.Duration
	start, end int64  // when the call ran on the worker, Unix ns on its clock; 0 if not known (version 1)
	outcome    []byte // kindOutcome: Invoke's bytes
}

const (
	kindOutcome  byte = iota + 1 // the call ran: Invoke's outcome (result, error or panic)
	kindNotRun                   // Invoke refused it (no such function, an argument that does not decode)
	kindTimedOut                 // ran past Timeout
	kindKilled                   // delivered MaxDeliver times without an answer
	kindGoexit                   // the task called runtime.Goexit
)

// envelopeVersion is the format written. Version 2 added start and end
// (the worker's run times, for the caller's timeline); version 1 results,
// of workers built before, still decode.
const envelopeVersion = 2

func (e *envelope) encode() []byte {
	b := make([]byte, 0, 32+len(e.worker)+len(e.arg)+len(e.msg)+len(e.outcome))
	b = append(b, envelopeVersion, e.kind)
	for _, s := range []string{e.worker, e.arg, e.msg} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, e.deliveries)
	b = binary.AppendVarint(b, int64(e.timeout))
	b = binary.AppendVarint(b, e.start)
	b = binary.AppendVarint(b, e.end)
	return append(b, e.outcome...)
}

var errEnvelope = errors.New("cluster: a result in the results bucket is not in this version's format")

func decodeEnvelope(b []byte) (*envelope, error) {
	if len(b) < 2 || b[0] < 1 || b[0] > envelopeVersion || b[1] < kindOutcome || b[1] > kindGoexit {
		return nil, errEnvelope
	}
	e := &envelope{kind: b[1]}
	version := b[0]
	b = b[2:]
	for _, s := range []*string{&e.worker, &e.arg, &e.msg} {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, errEnvelope
		}
		*s = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	d, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, errEnvelope
	}
	e.deliveries, b = d, b[k:]
	t, k := binary.Varint(b)
	if k <= 0 {
		return nil, errEnvelope
	}
	e.timeout, b = time.Duration(t), b[k:]
	if version >= 2 {
		for _, v := range []*int64{&e.start, &e.end} {
			n, k := binary.Varint(b)
			if k <= 0 {
				return nil, errEnvelope
			}
			*v, b = n, b[k:]
		}
	}
	e.outcome = b
	return e, nil
}

// result turns e into what Execute returns for the call of fn at index.
func (e *envelope) result(fn string, index int) ([]byte, error) {
	switch e.kind {
	case kindOutcome:
		return e.outcome, nil
	case kindNotRun:
		return nil, fmt.Errorf("cluster: %s call #%d could not run on worker %s: %s", fn, index, e.worker, e.msg)
	}
	we := &WorkerError{Func: fn, Call: index, Worker: e.worker}
	switch e.kind {
	case kindTimedOut:
		we.TimedOut, we.Timeout = true, e.timeout
	case kindKilled:
		we.Deliveries = int(e.deliveries)
	case kindGoexit:
		we.Goexit = true
	}
	return nil, we
}
