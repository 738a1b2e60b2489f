package cluster

// How Statics travel: the caller puts each value into the object store
// under its hash and gives every call a header naming them; a worker
// fetches a value the first time a task reads it (static.go).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deco-go/deco/backend"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	staticsBucket   = "deco_statics"
	hdrStatics      = "Deco-Statics" // name=hash&... of every Static of the program ("" hash: not Set)
	staticFetchWait = 2 * time.Minute
)

// staticFetches counts the objects this process fetched (the tests read
// it in workers).
var staticFetches atomic.Int64

// staticState is a session's view of the Statics: the header its calls
// carry, for the Sets it has seen, and the objects it knows are stored.
type staticState struct {
	mu      sync.Mutex
	version uint64 // backend.StaticsVersion when refs was made
	refs    string
	at      time.Time            // when refs was made (objects put or checked)
	stored  map[string]time.Time // hash → when this session put or found it
	obj     jetstream.ObjectStore
}

// staticRefs returns the header value of this session's calls, putting
// the values of Statics set since the last call into the object store
// first. A program without Statics pays one atomic load.
func (s *session) staticRefs(ctx context.Context) (string, error) {
	v := backend.StaticsVersion()
	if v == 0 {
		return "", nil
	}
	st := &s.statics
	st.mu.Lock()
	defer st.mu.Unlock()
	refresh := time.Since(st.at) > s.cfg.ttl/2 // objects expire ResultTTL after their put
	if st.version == v && !refresh {
		return st.refs, nil
	}
	if refresh {
		st.stored = nil
	}
	vals := url.Values{}
	for _, sv := range backend.Statics() {
		name := sv.Name()
		if !sv.IsSet() {
			vals.Set(name, "")
			continue
		}
		enc, sum, err := sv.Encoded()
		if err != nil {
			return "", err
		}
		if int64(len(enc)) > s.cfg.maxStatic {
			return "", fmt.Errorf("cluster: Static %q is %d bytes encoded, more than MaxStatic (%d bytes)", name, len(enc), s.cfg.maxStatic)
		}
		if err := s.storeStatic(ctx, name, sum, enc, refresh); err != nil {
			return "", err
		}
		vals.Set(name, sum)
	}
	st.refs, st.version, st.at = vals.Encode(), v, time.Now()
	return st.refs, nil
}

// storeStatic makes sure the object store holds enc under sum: it puts it
// unless the session stored it already or (without again) the bucket
// holds it, put by another caller.
func (s *session) storeStatic(ctx context.Context, name, sum string, enc []byte, again bool) error {
	st := &s.statics
	if _, ok := st.stored[sum]; ok {
		return nil
	}
	if st.obj == nil {
		storage := jetstream.FileStorage
		if s.cfg.memory {
			storage = jetstream.MemoryStorage
		}
		obj, err := s.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket:      staticsBucket,
			Description: "deco Statics, by the SHA-256 of their encoding",
			TTL:         s.cfg.ttl,
			Storage:     storage,
			Replicas:    s.cfg.replicas,
		})
		if err != nil {
			return fmt.Errorf("cluster: Static %q: creating object store %s: %w", name, staticsBucket, err)
		}
		st.obj = obj
	}
	found := false
	if !again {
		info, err := st.obj.GetInfo(ctx, sum)
		found = err == nil && !info.Deleted && info.Size == uint64(len(enc)) && info.Digest == digestOf(sum)
	}
	if !found {
		if _, err := st.obj.PutBytes(ctx, sum, enc); err != nil {
			return fmt.Errorf("cluster: Static %q: putting its value (%d bytes) into object store %s: %w", name, len(enc), staticsBucket, err)
		}
		s.e.stats.staticPuts.Add(1)
	}
	if st.stored == nil {
		st.stored = map[string]time.Time{}
	}
	st.stored[sum] = time.Now()
	return nil
}

// digestOf is the object store's digest of bytes whose hex SHA-256 is sum.
func digestOf(sum string) string {
	b, err := hex.DecodeString(sum)
	if err != nil {
		return ""
	}
	return "SHA-256=" + base64.URLEncoding.EncodeToString(b)
}

// parseRefs reads a Deco-Statics header.
func parseRefs(refs string) (map[string]string, error) {
	vals, err := url.ParseQuery(refs)
	if err != nil {
		return nil, fmt.Errorf("cluster: the call's %s header %q is malformed: %v", hdrStatics, refs, err)
	}
	names := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) != 1 {
			return nil, fmt.Errorf("cluster: the call's %s header names Static %q %d times", hdrStatics, k, len(v))
		}
		names[k] = v[0]
	}
	return names, nil
}

// serving is this process's worker, when it is one.
var serving atomic.Pointer[worker]

// serveStatics makes w this process's worker, the source of the values
// of the deco.Statics its tasks read.
func serveStatics(w *worker) {
	serving.Store(w)
	backend.ServeStatics(workerStatics{})
}

// fetchStatic reads the object named sum from the object store, in a
// worker, and checks that its bytes have that hash.
func fetchStatic(sum string) ([]byte, error) {
	w := serving.Load()
	if w == nil {
		return nil, errors.New("this process is not a cluster worker")
	}
	ctx, cancel := context.WithTimeout(w.ctx, staticFetchWait)
	defer cancel()
	where := fmt.Sprintf("object %s of bucket %s", sum[:min(12, len(sum))], staticsBucket)
	obj, err := w.objects(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, fmt.Errorf("fetching %s: the bucket does not exist (removed?)", where)
		}
		return nil, fmt.Errorf("fetching %s: %w", where, err)
	}
	r, err := obj.Get(ctx, sum)
	if err != nil {
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, fmt.Errorf("fetching %s: not found: it expired (ResultTTL after its put) or was removed", where)
		}
		return nil, fmt.Errorf("fetching %s: %w", where, err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if info, err := r.Info(); err == nil && info.Size < 1<<40 {
		buf.Grow(int(info.Size))
	}
	if _, err := io.Copy(&buf, r); err != nil {
		if errors.Is(err, jetstream.ErrDigestMismatch) {
			return nil, fmt.Errorf("fetching %s: corrupt: its chunks do not match its digest", where)
		}
		return nil, fmt.Errorf("fetching %s: %w", where, err)
	}
	b := buf.Bytes()
	if backend.StaticHash(b) != sum {
		return nil, fmt.Errorf("fetching %s: corrupt: its %d bytes have another hash (replaced under the name of another value?)", where, len(b))
	}
	staticFetches.Add(1)
	return b, nil
}

// objects opens the Statics' object store once.
func (w *worker) objects(ctx context.Context) (jetstream.ObjectStore, error) {
	w.objMu.Lock()
	defer w.objMu.Unlock()
	if w.obj != nil {
		return w.obj, nil
	}
	obj, err := w.js.ObjectStore(ctx, staticsBucket)
	if err != nil {
		return nil, err
	}
	w.obj = obj
	return obj, nil
}

// resultTTL is how long the outcome of the call with headers h is kept.
func resultTTL(h nats.Header) time.Duration {
	ttl, err := time.ParseDuration(h.Get(hdrTTL))
	if err != nil || ttl < time.Second {
		return ephemeralMaxTTL
	}
	return ttl
}
