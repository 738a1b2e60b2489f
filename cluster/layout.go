package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The JetStream layout (see doc.go):
//
//	stream DECO_TASKS, work queue, subjects deco.task.<build>.<func>
//	one durable pull consumer per build and function, shared by workers
//	KV bucket deco_results: <batch>.<index> → the call's outcome (Create)
//	KV bucket deco_workers: <build>.<host>_<pid> → a worker's presence
//	core subject deco.cancel.<build>: cancels of running calls
//
// <build> is the registry's fingerprint: a worker of another build pulls
// from other consumers, and never sees this build's calls.
const (
	protocol       = "deco-cluster/1"
	tasksStream    = "DECO_TASKS"
	taskPrefix     = "deco.task."
	resultsBucket  = "deco_results"
	resultsStream  = "KV_" + resultsBucket
	resultsPrefix  = "$KV." + resultsBucket + "."
	workersBucket  = "deco_workers"
	workersTTL     = 6 * time.Second // a worker refreshes its presence every workersTTL/3
	cancelPrefix   = "deco.cancel."
	maxDeliverSubj = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + tasksStream + ".*"
	maxAckPending  = 10000
)

// Headers of a task message.
const (
	hdrKey     = "Deco-Key"     // the result's key
	hdrFunc    = "Deco-Func"    // the function's name
	hdrCall    = "Deco-Call"    // the call's index, for errors
	hdrTTL     = "Deco-TTL"     // how long to keep the result
	hdrTimeout = "Deco-Timeout" // Timeout, if any
	hdrArg     = "Deco-Arg"     // the argument's hash (durable batches)
	hdrAckWait = "Deco-AckWait" // the caller's AckWait: workers heartbeat every third of it
)

// funcToken is a function's name as a subject token: names may hold any
// character, tokens may not.
func funcToken(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:8])
}

func taskSubject(build, name string) string { return taskPrefix + build + "." + funcToken(name) }
func consumerName(build, name string) string {
	return "deco_" + build + "_" + funcToken(name)
}

// ensureLayout creates the streams and buckets, or updates their
// configuration to cfg's.
func ensureLayout(ctx context.Context, js jetstream.JetStream, cfg *config) (jetstream.Stream, jetstream.KeyValue, error) {
	storage := jetstream.FileStorage
	if cfg.memory {
		storage = jetstream.MemoryStorage
	}
	tasks, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        tasksStream,
		Description: "deco calls waiting for a worker",
		Subjects:    []string{taskPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     storage,
		Replicas:    cfg.replicas,
		Duplicates:  cfg.dedupe,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: creating stream %s: %w", tasksStream, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         resultsBucket,
		Description:    "deco call outcomes, first writer wins",
		Storage:        storage,
		Replicas:       cfg.replicas,
		LimitMarkerTTL: time.Minute,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: creating bucket %s: %w", resultsBucket, err)
	}
	if _, err := ensureWorkersBucket(ctx, js, storage, cfg.replicas); err != nil {
		return nil, nil, err
	}
	return tasks, kv, nil
}

func ensureWorkersBucket(ctx context.Context, js jetstream.JetStream, storage jetstream.StorageType, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      workersBucket,
		Description: "deco workers connected now",
		Storage:     storage,
		Replicas:    replicas,
		TTL:         workersTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: creating bucket %s: %w", workersBucket, err)
	}
	return kv, nil
}

// consumerConfig is the consumer of build's calls of name.
func consumerConfig(build, name string, cfg *config) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       consumerName(build, name),
		Description:   "deco " + name,
		FilterSubject: taskSubject(build, name),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.ackWait,
		MaxDeliver:    cfg.retries + 1,
		MaxAckPending: maxAckPending,
	}
}

// ensureConsumer makes the consumer of build's calls of name unless it
// exists. A worker (update false) takes the settings it finds; a caller
// updates them to its own when they differ, and only then: an update
// while workers pull is not free.
func ensureConsumer(ctx context.Context, js jetstream.JetStream, build, name string, cfg *config, update bool) (jetstream.Consumer, error) {
	cc := consumerConfig(build, name, cfg)
	c, err := js.Consumer(ctx, tasksStream, cc.Durable)
	if err == nil {
		have := c.CachedInfo().Config
		if !update || have.AckWait == cc.AckWait && have.MaxDeliver == cc.MaxDeliver && have.MaxAckPending == cc.MaxAckPending {
			return c, nil
		}
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	c, err = js.CreateOrUpdateConsumer(ctx, tasksStream, cc)
	if err != nil {
		return nil, fmt.Errorf("cluster: creating the consumer of %s: %w", name, err)
	}
	return c, nil
}
