package cluster

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// embedded is a nats-server with JetStream running in this process, on
// 127.0.0.1 with a random port, so that local worker processes connect to
// it; a random token keeps other local users' programs out.
type embedded struct {
	srv   *server.Server
	url   string // nats://127.0.0.1:port
	token string
	lock  *os.File // the store folder's lock
}

// defaultDir is the embedded server's folder when Dir is not given: one
// per program, by the path of its binary, under the user's cache folder.
func defaultDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cluster: no folder for the embedded server's storage (%v): give one with cluster.Dir", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cluster: no folder for the embedded server's storage (%v): give one with cluster.Dir", err)
	}
	h := sha256.Sum256([]byte(exe))
	return filepath.Join(cache, "deco", "nats", filepath.Base(exe)+"-"+hex.EncodeToString(h[:4])), nil
}

func startEmbedded(cfg *config) (*embedded, error) {
	dir := cfg.dir
	if dir == "" {
		var err error
		if dir, err = defaultDir(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster: the embedded server's folder: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	rand.Read(tok)
	token := hex.EncodeToString(tok)
	opts := &server.Options{
		ServerName:    "deco-embedded",
		Host:          "127.0.0.1",
		Port:          server.RANDOM_PORT,
		NoSigs:        true,
		NoLog:         true,
		JetStream:     true,
		StoreDir:      dir,
		Authorization: token,
		// Leaf, cluster, gateway, HTTP monitoring: none. Local workers only.
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("cluster: starting the embedded NATS server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(embeddedStartMax) {
		srv.Shutdown()
		srv.WaitForShutdown()
		lock.Close()
		return nil, fmt.Errorf("cluster: the embedded NATS server (storage %s) was not ready within %v", dir, embeddedStartMax)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		srv.WaitForShutdown()
		lock.Close()
		return nil, fmt.Errorf("cluster: the embedded NATS server could not enable JetStream in %s", dir)
	}
	return &embedded{srv: srv, url: srv.ClientURL(), token: token, lock: lock}, nil
}

// stop shuts the server down and waits until its goroutines have
// returned.
func (s *embedded) stop() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	// The server's last goroutines may still be on their way out after
	// WaitForShutdown: give them a moment, boundedly.
	for i := 0; i < 200 && s.srv.NumClients() > 0; i++ {
		time.Sleep(time.Millisecond)
	}
	s.lock.Close()
}

func (s *embedded) tokenOrEmpty() string {
	if s == nil {
		return os.Getenv(EnvToken)
	}
	return s.token
}
