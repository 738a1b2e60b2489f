package process

// How deco.Statics travel to worker processes: on demand. A task's first
// Get of a Static asks the parent for it by name (a need frame on the
// task's results pipe); the parent answers with the encoded value (a
// static frame on the cancels pipe), once per Static and worker process.
// A worker has one parent, so one value per Static.

import (
	"errors"
	"fmt"
	"sync"

	"github.com/deco-go/deco/backend"
)

// sendStatic answers a worker's request for the Static called name.
func (e *Executor) sendStatic(c *child, name string) {
	f := &frame{Kind: kindStatic, Name: name}
	if s, ok := backend.LookupStatic(name); !ok {
		f.Err = fmt.Sprintf("deco: Static %q is not a Static of the parent process: make it with deco.NewStatic at package level, so that every process of the program has it", name)
	} else if b, _, err := s.Encoded(); err != nil {
		f.Err = err.Error()
	} else {
		f.Data = b
	}
	err := c.cancels.send(f)
	var big errTooLarge
	if errors.As(err, &big) {
		// The worker waits for an answer: it gets the reason.
		f.Data, f.Err = nil, fmt.Sprintf("deco: Static %q is %d bytes encoded, more than MaxMessage (%d bytes) allows a message between the parent and a worker", name, len(f.Data), e.cfg.maxMessage)
		err = c.cancels.send(f)
	}
	if err == nil && f.Err == "" {
		e.stats.staticSends.Add(1)
	}
}

// workerStatics is a worker's backend.StaticSource: it asks the parent.
type workerStatics struct {
	c   *conn
	mu  sync.Mutex
	got map[string]*fetched // by Static name
}

// fetched is a value the parent sent; enc is dropped once handed over,
// since the Static keeps the decoded value.
type fetched struct {
	hash string
	enc  []byte
}

func (w *workerStatics) StaticHash(name string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f := w.got[name]; f != nil {
		return f.hash, nil
	}
	b, err := w.c.need(name)
	if err != nil {
		return "", err
	}
	f := &fetched{hash: backend.StaticHash(b), enc: b}
	if w.got == nil {
		w.got = map[string]*fetched{}
	}
	w.got[name] = f
	return f.hash, nil
}

func (w *workerStatics) FetchStatic(name, hash string) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.got[name]
	if f == nil || f.hash != hash {
		return nil, fmt.Errorf("deco/process: Static %q: no value of hash %.12s was received from the parent", name, hash)
	}
	if f.enc == nil { // handed over before, and the decode failed: ask again
		b, err := w.c.need(name)
		if err != nil {
			return nil, err
		}
		f.enc = b
	}
	b := f.enc
	f.enc = nil
	return b, nil
}
