package store

import (
	"context"
	"fmt"
	"time"
)

// WaitTail is the waiting part of Tail that drivers share: it calls read
// until it returns changes or an error, waiting between calls on the
// channel read returns (closed when the next change lands), for at most
// wait in all. closed is the driver's channel closed by Close.
func WaitTail(ctx context.Context, ns string, wait time.Duration, closed <-chan struct{},
	read func() ([]Change, <-chan struct{}, error)) ([]Change, error) {
	var timer *time.Timer
	for {
		changes, changed, err := read()
		if err != nil || changes != nil || wait <= 0 {
			return changes, err
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("tail %s: %w", ns, ctx.Err())
		case <-closed:
			return nil, ErrClosed
		}
	}
}
