package cluster

import (
	"fmt"
	"os"
	"strings"

	"github.com/deco-go/deco/backend"
	"github.com/nats-io/nats.go"
)

// Scheme is the DECO_EXECUTOR scheme of this package:
//
//	DECO_EXECUTOR=nats:local             an embedded server and runtime.GOMAXPROCS(0) local workers
//	DECO_EXECUTOR=nats:local:4           the same with 4 local workers
//	DECO_EXECUTOR=nats://host:4222       an external server; workers join with DECO_WORKER=nats://host:4222
//
// The executor it makes is shared by every named function and never
// closed: its workers and embedded server end with the program.
// DECO_NATS_DIR sets the embedded server's folder ([Dir]).
// Credentials and TLS come from the environment variables below, read by
// callers and workers alike.
const Scheme = "nats"

// The environment of callers and workers, for an external server. Each is
// optional; the URL may also carry user:password@ or token@.
const (
	EnvCreds  = "DECO_NATS_CREDS" // a credentials file (JWT and NKey seed): nats.UserCredentials
	EnvNKey   = "DECO_NATS_NKEY"  // an NKey seed file: nats.NkeyOptionFromSeed
	EnvToken  = "DECO_NATS_TOKEN" // an authentication token: nats.Token
	EnvCA     = "DECO_NATS_CA"    // PEM files of the CAs to trust, comma-separated: nats.RootCAs
	EnvCert   = "DECO_NATS_CERT"  // a client certificate (PEM) ...
	EnvKey    = "DECO_NATS_KEY"   // ... and its key: nats.ClientCert
	EnvSlots  = "DECO_WORKER_SLOTS"
	EnvDir    = "DECO_NATS_DIR"      // the embedded server's folder for nats:local (see Dir)
	envLocal  = "DECO_CLUSTER_LOCAL" // set in local workers: fds 3 and 4 are the lifeline and the ready pipe
	lifeline  = 3
	readyPipe = 4
)

// fromEnv makes the executor of DECO_EXECUTOR=nats:arg.
func fromEnv(arg string) (backend.Executor, error) {
	if arg == "local" || strings.HasPrefix(arg, "local:") {
		var opts []Option
		if d := os.Getenv(EnvDir); d != "" {
			opts = append(opts, Dir(d))
		}
		if n, ok := strings.CutPrefix(arg, "local:"); ok {
			var w int
			if _, err := fmt.Sscanf(n, "%d", &w); err != nil || w < 1 || fmt.Sprint(w) != n {
				return nil, fmt.Errorf("%q is not a number of workers (want nats:local or nats:local:N, N at least 1)", n)
			}
			opts = append(opts, Workers(w))
		}
		return New(opts...), nil
	}
	if !strings.HasPrefix(arg, "//") {
		return nil, fmt.Errorf("want nats:local, nats:local:N or nats://host:port, not nats:%s", arg)
	}
	url := "nats:" + arg
	if err := checkURL(url); err != nil {
		return nil, err
	}
	return New(URL(url)), nil
}

// envNATSOptions returns the nats.go options the environment asks for.
func envNATSOptions() []nats.Option {
	var o []nats.Option
	if v := os.Getenv(EnvCreds); v != "" {
		o = append(o, nats.UserCredentials(v))
	}
	if v := os.Getenv(EnvNKey); v != "" {
		if opt, err := nats.NkeyOptionFromSeed(v); err == nil {
			o = append(o, opt)
		} else {
			o = append(o, func(*nats.Options) error { return fmt.Errorf("cluster: %s=%s: %w", EnvNKey, v, err) })
		}
	}
	if v := os.Getenv(EnvToken); v != "" {
		o = append(o, nats.Token(v))
	}
	if v := os.Getenv(EnvCA); v != "" {
		o = append(o, nats.RootCAs(strings.Split(v, ",")...))
	}
	if c, k := os.Getenv(EnvCert), os.Getenv(EnvKey); c != "" || k != "" {
		o = append(o, nats.ClientCert(c, k))
	}
	return o
}
