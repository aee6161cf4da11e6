package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/store/memory"
)

func TestShareClosesWithTheLastHandle(t *testing.T) {
	st := memory.New(1, record.NewClock(nil))
	handles := store.Share(st, 2)
	ctx := context.Background()

	if err := handles[0].Close(); err != nil {
		t.Fatal(err)
	}
	if err := handles[0].Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := handles[1].Put(ctx, "ns", "s", "k", nil, 0); err != nil {
		t.Fatalf("put through the open handle after the other closed twice: %v", err)
	}
	if err := handles[1].Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "ns", "s", "k", nil, 0); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("put after every handle closed = %v, want ErrClosed", err)
	}
}
