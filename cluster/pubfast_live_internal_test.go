package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// fooling are stream names and domains that hold what parsePubAck looks
// for: nats-server quotes them, so none of them fools it.
var fooling = []string{
	`x","duplicate":true,"seq":9,"y`,
	`x","duplicate": true}`,
	`"seq":5,"duplicate":true`,
	`duplicate":true`,
	`seq":7`,
	`x\","duplicate":true`,
	`x\`,
}

func TestParsePubAckIsNotFooledByNames(t *testing.T) {
	// The PubAcks as nats-server v2.15.2 writes them (stream.go's
	// fmt.Appendf with %q), first and duplicate, with and without a
	// domain: parsePubAck reads what encoding/json reads.
	for _, name := range fooling {
		for _, domain := range []string{"", name} {
			var ack []byte
			if domain != "" {
				ack = fmt.Appendf(nil, "{%q:%q,%q:%q,%q:", "stream", name, "domain", domain, "seq")
			} else {
				ack = fmt.Appendf(nil, "{%q:%q,%q:", "stream", name, "seq")
			}
			for _, c := range []struct {
				in  string
				dup bool
			}{{string(ack) + "3}", false}, {string(ack) + `3,"duplicate": true}`, true}} {
				seq, dup, err := parsePubAck([]byte(c.in))
				if err != nil || seq != 3 || dup != c.dup {
					t.Errorf("parsePubAck(%s) = %d, %v, %v; want 3, %v", c.in, seq, dup, err, c.dup)
				}
				var r jetstream.PubAck
				if err := json.Unmarshal([]byte(c.in), &r); err != nil || r.Sequence != 3 || r.Duplicate != c.dup || r.Stream != name || r.Domain != domain {
					t.Errorf("encoding/json reads %s as %+v, %v", c.in, r, err)
				}
			}
		}
	}
}

func TestParsePubAckReadsAServersPubAcksOfStreamsNamedToFoolIt(t *testing.T) {
	// The same names as streams of a real server, and as its domain: the
	// first publish of a message ID is no duplicate, the second is.
	for _, domain := range []string{"", `x","duplicate":true,"seq":9,"y`} {
		s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
			JetStreamDomain: domain, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
		if err != nil {
			t.Fatalf("domain %q: %v", domain, err)
		}
		s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("server not ready")
		}
		nc, err := nats.Connect(s.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		taken := 0
		for i, name := range fooling {
			subj := fmt.Sprintf("fool.%d", i)
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subj}, Storage: jetstream.MemoryStorage}); err != nil {
				t.Logf("stream %q: %v (not a stream name nats-server takes)", name, err)
				continue
			}
			taken++
			for n, wantDup := range []bool{false, true} {
				m := nats.NewMsg(subj)
				m.Header.Set(jetstream.MsgIDHeader, "once")
				resp, err := nc.RequestMsgWithContext(ctx, m)
				if err != nil {
					t.Fatal(err)
				}
				seq, dup, err := parsePubAck(resp.Data)
				if domain != "" && !bytes.Contains(resp.Data, []byte(`"domain":`)) {
					t.Errorf("PubAck %s names no domain", resp.Data)
				}
				if err != nil || seq != 1 || dup != wantDup {
					t.Errorf("domain %q, stream %q, publish %d: PubAck %s read as %d, %v, %v; want 1, %v", domain, name, n+1, resp.Data, seq, dup, err, wantDup)
				}
			}
		}
		if taken < 4 {
			t.Errorf("domain %q: %d of the names taken as streams, want at least the 4 with quotes and no backslash", domain, taken)
		}
		cancel()
		nc.Close()
		s.Shutdown()
		s.WaitForShutdown()
	}
}
