package cluster

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// An Option configures an [Executor]. [New] checks them and panics with a
// message naming an invalid one, as deco's options do: it is a bug in the
// program, not a condition to handle at run time.
type Option func(*config) error

type config struct {
	url       string // "" for an embedded server
	dir       string // the embedded server's storage
	workers   int    // local worker processes
	slots     int    // calls each local worker runs at once
	inFlight  int    // Workers(): the default limit of functions on the executor
	ackWait   time.Duration
	retries   int
	timeout   time.Duration
	ttl       time.Duration
	dedupe    time.Duration
	replicas  int
	memory    bool // memory storage instead of files
	natsOpts  []nats.Option
	connWait  time.Duration
	workersOn bool  // Workers given explicitly
	maxStatic int64 // bytes of a Static's encoded value
	pack      int   // calls in a pack at most (1: no packs)
	packAbove int   // calls of a function in flight beyond which calls may go in packs
}

// Defaults, stated in the options' docs.
const (
	defaultAckWait   = 30 * time.Second
	defaultRetries   = 2
	defaultTTL       = 24 * time.Hour
	defaultDedupe    = 10 * time.Minute
	defaultInFlight  = 256
	defaultPackAbove = 64 // with URL: the workers' room unknown
	defaultSlots     = 2
	defaultConnWait  = 5 * time.Second
	ephemeralMaxTTL  = time.Hour
	minAckWait       = 300 * time.Millisecond
	embeddedStartMax = 10 * time.Second
	defaultMaxStatic = 1 << 30
	defaultPack      = 16
)

func newConfig(opts []Option) (config, error) {
	c := config{
		workers:  runtime.GOMAXPROCS(0),
		slots:    defaultSlots,
		ackWait:  defaultAckWait,
		retries:  defaultRetries,
		ttl:      defaultTTL,
		dedupe:   defaultDedupe,
		replicas: 1,
		connWait: defaultConnWait,

		maxStatic: defaultMaxStatic,
		pack:      defaultPack,
	}
	var errs []error
	for _, o := range opts {
		if o == nil {
			errs = append(errs, errors.New("cluster: nil Option"))
			continue
		}
		if err := o(&c); err != nil {
			errs = append(errs, err)
		}
	}
	if c.url != "" && !c.workersOn {
		c.workers = 0 // an external server: workers join by themselves
	}
	if c.url == "" && c.workers == 0 {
		errs = append(errs, errors.New("cluster: Workers(0) with an embedded server: nothing would run the calls (give URL to use workers of an external server)"))
	}
	if c.dedupe >= c.ttl {
		errs = append(errs, fmt.Errorf("cluster: the duplicate window (%v) must be shorter than ResultTTL (%v): a call re-submitted after its result expired would be dropped as a duplicate", c.dedupe, c.ttl))
	}
	if c.inFlight == 0 {
		// Many calls in flight: those beyond the workers' room wait in
		// packs (see Pack) rather than one by one in deco's queue,
		// where no pack could take them.
		c.inFlight = max(defaultInFlight, 2*c.workers*c.slots)
	}
	// Calls beyond what the workers run queue behind busy workers:
	// those may go in packs.
	c.packAbove = defaultPackAbove
	if c.workers > 0 {
		c.packAbove = c.workers * c.slots
	}
	return c, errors.Join(errs...)
}

// URL connects to an external NATS server or cluster with JetStream, such
// as "nats://nats.example.com:4222" (several URLs separated by commas),
// instead of starting an embedded one; credentials and TLS go in
// [NATSOptions]. Workers join by themselves, started anywhere with
// DECO_WORKER set to the same URL; [Workers] also starts local ones.
func URL(url string) Option {
	return func(c *config) error {
		if err := checkURL(url); err != nil {
			return fmt.Errorf("cluster: URL(%q): %w", url, err)
		}
		c.url = url
		return nil
	}
}

func checkURL(url string) error {
	if url == "" {
		return errors.New("empty URL")
	}
	for _, u := range strings.Split(url, ",") {
		u = strings.TrimSpace(u)
		scheme, rest, ok := strings.Cut(u, "://")
		if !ok || rest == "" {
			return fmt.Errorf("%q is not a URL of the form nats://host:port", u)
		}
		switch scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("%q: scheme %q is not one of nats, tls, ws, wss", u, scheme)
		}
	}
	return nil
}

// Dir sets the folder where the embedded server keeps its streams (file
// storage). The default is a folder of the program under the user's cache
// folder (os.UserCacheDir()/deco/nats/<program>-<hash of its path>), so
// that a durable batch ([Durable]) outlives the program; never a shared
// temporary folder. Only one process at a time may use a folder: a second
// one fails with an error naming it. Ignored with [URL].
func Dir(path string) Option {
	return func(c *config) error {
		if path == "" {
			return errors.New("cluster: Dir(\"\"): the folder must not be empty")
		}
		c.dir = path
		return nil
	}
}

// Memory keeps the embedded server's streams in memory instead of files:
// faster, but nothing survives the program ([Durable] batches included).
func Memory() Option {
	return func(c *config) error { c.memory = true; return nil }
}

// Workers sets the number of local worker processes, the program's own
// binary started again ([Main] turns it into a worker): by default
// runtime.GOMAXPROCS(0) with an embedded server, none with [URL].
func Workers(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("cluster: Workers(%d): the number of workers must not be negative", n)
		}
		c.workers, c.workersOn = n, true
		return nil
	}
}

// Slots sets how many calls each local worker process runs at once; the
// default is 2, which keeps a core busy while a result travels. A worker
// started with DECO_WORKER runs DECO_WORKER_SLOTS calls at once
// (default runtime.GOMAXPROCS(0) of its machine).
func Slots(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("cluster: Slots(%d): a worker must run at least one call at a time", n)
		}
		c.slots = n
		return nil
	}
}

// InFlight sets what [Executor.Workers] reports, the default limit of
// the functions that run on the executor (calls submitted and not yet
// answered, per function): 256 by default (or twice the local workers'
// slots, if more), so that calls beyond what the workers run wait in
// packs (see [Pack]) rather than one by one in deco's queue.
// [deco.Limit] overrides it per function; at most the local workers'
// slots, every call goes alone.
func InFlight(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("cluster: InFlight(%d): must be at least 1", n)
		}
		c.inFlight = n
		return nil
	}
}

// AckWait sets how long a call may go without news from the worker that
// took it before JetStream gives it to another worker: a worker that died
// (killed, its machine lost) is noticed after it. Workers send a
// heartbeat every AckWait/3 for each call (or pack) they hold, from the
// moment it reaches them: while it waits for a slot, and while it runs.
// A worker asks for calls of a function only when it has none of it
// waiting for a slot, and for as many as it has slots free plus one to
// hold waiting; a call that reaches it beyond that (a request it took for
// lost after a reconnection or missed heartbeats may still stand) is
// beaten too, so no call waits on a worker unbeaten, however long the
// calls before it run. (A call still runs twice if its worker dies or
// its ack is lost after it ran, or if its worker is so starved of CPU
// that a beat comes 2/3 of AckWait late: at-least-once execution, its
// first outcome kept.) The default is 30 s; the minimum 300 ms.
func AckWait(d time.Duration) Option {
	return func(c *config) error {
		if d < minAckWait {
			return fmt.Errorf("cluster: AckWait(%v): must be at least %v", d, minAckWait)
		}
		c.ackWait = d
		return nil
	}
}

// Retries sets how many more times a call is given to a worker after the
// worker running it died: a call delivered Retries+1 times without an
// answer fails with a *[WorkerError] saying it killed its workers that
// many times (JetStream's MaxDeliver). The default is 2. A task's error
// or panic is an answer: it is never retried. A worker holds, besides the
// calls it runs, about one call (or pack) of each function waiting for a
// slot (more when calls of several functions reach it at once, each
// function asking for the slots free, or when a request it took for lost
// still stood; see [AckWait]); when it dies, those count a delivery too,
// so leave room for workers dying for other reasons than the call. (A
// pack of calls that queued together counts one delivery for all; once
// its worker died it is split, and its calls count their deliveries
// afresh.)
func Retries(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("cluster: Retries(%d): must not be negative", n)
		}
		c.retries = n
		return nil
	}
}

// Timeout bounds how long a call may run on its worker, from when the
// worker starts it: past it, the call fails with a *[WorkerError] whose
// TimedOut is set (errors.Is matches context.DeadlineExceeded) and the
// task's context is cancelled; a task that ignores its context keeps its
// worker's slot until it returns. Without it a call may run for ever.
func Timeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("cluster: Timeout(%v): must be positive", d)
		}
		c.timeout = d
		return nil
	}
}

// ResultTTL sets how long the result of a call of a [Durable] batch is
// kept after it was computed, for a caller that restarts: 24 hours by
// default. Results of other calls are kept for at most an hour (less if
// ResultTTL is shorter): nobody but their caller reads them.
func ResultTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second {
			return fmt.Errorf("cluster: ResultTTL(%v): must be at least one second", d)
		}
		c.ttl = d
		return nil
	}
}

// DuplicateWindow sets how long JetStream remembers a published call, so
// that a caller re-submitting a [Durable] batch within it does not queue
// the same call twice: 10 minutes by default. It must be shorter than
// [ResultTTL]. IDs cost server memory for the whole window.
func DuplicateWindow(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second {
			return fmt.Errorf("cluster: DuplicateWindow(%v): must be at least one second", d)
		}
		c.dedupe = d
		return nil
	}
}

// Replicas sets the replication of the streams the executor creates: 3
// on a 3-node NATS cluster for production (a stream survives the loss of
// one node). The default is 1.
func Replicas(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 5 {
			return fmt.Errorf("cluster: Replicas(%d): must be 1 to 5", n)
		}
		c.replicas = n
		return nil
	}
}

// NATSOptions passes options to nats.Connect, after the executor's own:
// credentials (nats.UserCredentials, nats.Nkey, nats.Token,
// nats.UserInfo), TLS (nats.RootCAs, nats.ClientCert, nats.Secure), names
// and handlers. Used with [URL]; local workers read theirs from the
// environment (see [Main]).
func NATSOptions(opts ...nats.Option) Option {
	return func(c *config) error {
		for i, o := range opts {
			if o == nil {
				return fmt.Errorf("cluster: NATSOptions: option %d is nil", i)
			}
		}
		c.natsOpts = append(c.natsOpts, opts...)
		return nil
	}
}

// ConnectTimeout bounds how long connecting to a server, and setting up
// the executor's stream and buckets there, may take before calls fail
// with the error that stopped it: 5 s by default.
func ConnectTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("cluster: ConnectTimeout(%v): must be positive", d)
		}
		c.connWait = d
		return nil
	}
}

// MaxStatic bounds the encoded size of the value of a
// [github.com/deco-go/deco.Static], in bytes: the calls of an executor
// fail, naming the Static, while a larger one is set (a value of that
// size is put into the object store, and held by every worker that reads
// it). The default is 1 GiB.
func MaxStatic(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("cluster: MaxStatic(%d): must be at least 1 byte", n)
		}
		c.maxStatic = n
		return nil
	}
}

// Pack sets how many calls of a function may go together in one message
// (see the package documentation): up to 16 by default, and 1 turns
// packs off. Calls go in packs only when they queue behind busy workers:
// while more calls of the function are in flight than the local
// workers' slots (64 with [URL] and no local workers), those that queue
// up while a publish of it is in flight go in the next messages, after a
// wait of up to 2 ms while more calls join the queue. With local workers
// each message takes the queue's length divided by the number of
// workers, rounded up, at most n: small packs at the end of a batch keep
// the workers busy until it ends. A pack's calls all go to one worker, which runs
// them in as many slots as free up and writes their outcomes in a few
// entries; the last pack of a burst, when the worker's slots stay busy
// with longer calls, sends its rest back to the stream, for the others.
// Calls of Durable batches always go alone.
func Pack(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 64 {
			return fmt.Errorf("cluster: Pack(%d): must be 1 to 64", n)
		}
		c.pack = n
		return nil
	}
}
