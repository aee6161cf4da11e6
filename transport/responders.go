package transport

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
)

// respondersWait bounds how long a JetStream API call is retried while it
// finds no responders.
const respondersWait = 5 * time.Second

// untilResponders retries call while JetStream has no responders yet.
// Right after a server or a leaf node starts, a domain's API subjects take
// a moment to reach every server of the supercluster, and a request made
// then finds nobody although the domain is up.
func untilResponders[T any](ctx context.Context, call func() (T, error)) (T, error) {
	deadline := time.Now().Add(respondersWait)
	for {
		v, err := call()
		if !errors.Is(err, nats.ErrNoResponders) || time.Now().After(deadline) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}
