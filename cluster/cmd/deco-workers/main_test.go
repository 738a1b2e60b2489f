package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
	"github.com/nats-io/nats-server/v2/server"
)

func TestMain(m *testing.M) {
	cluster.Main()
	os.Exit(m.Run())
}

var hold = deco.ConcurrentCtxErr(func(ctx context.Context, _ int) error {
	<-ctx.Done()
	return ctx.Err()
}, deco.Name("cmdtest.hold"))

func TestListsWorkersAndTheirCalls(t *testing.T) {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	url := s.ClientURL()
	e := cluster.New(cluster.URL(url))
	defer e.Close()
	w := exec.Command(os.Args[0])
	w.Env = append(os.Environ(), "DECO_WORKER="+url, "DECO_WORKER_SLOTS=3")
	w.Stderr = os.Stderr
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { w.Process.Kill(); w.Wait() }()
	ctx, cancel := context.WithCancel(context.Background())
	f := hold.With(deco.On(e))
	f.GoContext(ctx, 0)
	defer func() { cancel(); f.Wait() }()
	id := fmt.Sprintf(":%d", w.Process.Pid)
	deadline := time.Now().Add(30 * time.Second)
	var out, errOut bytes.Buffer
	for {
		out.Reset()
		if code := run([]string{"-url", url}, &out, &errOut); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		if strings.Contains(out.String(), "cmdtest.hold #0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running call is not listed within 30 s:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{id, "1 workers", "cmdtest.hold", "QUEUED"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())
}

func TestABadServerIsAClearError(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-url", "nats://127.0.0.1:1", "-timeout", "1s"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "no server answered") {
		t.Fatalf("exit %d, %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"-url", "localhost"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "not a URL") {
		t.Fatalf("exit %d, %q", code, errOut.String())
	}
}
