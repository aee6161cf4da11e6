package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
)

// RawApplier sends versions to the server's xdrd_apply exactly as Apply
// does — one FCALL per version, a batch in one pipeline — but without
// validating the versions or reading the replies beyond their errors. It
// is the raw rate `xdrd bench` compares the replication pipeline with, not
// a way to write records: the caller must pass valid versions and must
// have opened a Store on the database first, so the library and the
// region's config are in place.
type RawApplier struct {
	rdb *goredis.Client
}

// NewRawApplier connects to the database at url (a store URL).
func NewRawApplier(url string) (*RawApplier, error) {
	cfg, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("open raw applier: parse url: %w", err)
	}
	return &RawApplier{rdb: goredis.NewClient(cfg)}, nil
}

// Apply pipelines one FCALL xdrd_apply per version.
func (a *RawApplier) Apply(ctx context.Context, p conflict.Policy, vs []record.Version) error {
	policy := "g"
	if p == conflict.Timestamp {
		policy = "t"
	}
	_, err := a.rdb.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i := range vs {
			v := &vs[i]
			addr := v.Namespace + ":" + v.Set + ":" + v.Key
			pipe.FCall(ctx, "xdrd_apply", []string{addr}, applyArgs(policy, v)...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("raw apply %d versions: %w", len(vs), err)
	}
	return nil
}

// Close closes the connections.
func (a *RawApplier) Close() error {
	return a.rdb.Close()
}
