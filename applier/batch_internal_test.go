package applier

import (
	"reflect"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// sizedMsg is a message with data and nothing else: batching looks at
// nothing else.
type sizedMsg struct {
	jetstream.Msg
	data []byte
}

func (m sizedMsg) Data() []byte { return m.data }

func msgOf(n int) jetstream.Msg { return sizedMsg{data: make([]byte, n)} }

// TestFillKeepsToBounds queues messages that have all arrived and checks
// how fill cuts them: at the byte bound without going past it, at the
// message bound, and around a message larger than the byte bound, which is
// a batch alone.
func TestFillKeepsToBounds(t *testing.T) {
	b := newBatcher(4, 100)
	b.q = newQueue(16, 1<<20) // room for all, so that the bounds cut alone
	for _, n := range []int{30, 30, 50, 250, 10, 10, 10, 10, 10, 60, 40} {
		b.q.put(msgOf(n))
	}
	close(b.q.msgs)

	var got [][]int
	for {
		if !b.opened() {
			m, ok := <-b.q.msgs
			if !ok {
				break
			}
			b.open(m)
		}
		var sizes []int
		for _, m := range b.fill(nil) {
			sizes = append(sizes, len(m.Data()))
		}
		got = append(got, sizes)
	}
	want := [][]int{{30, 30}, {50}, {250}, {10, 10, 10, 10}, {10, 60}, {40}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("batches %v, want %v", got, want)
	}
	if b.q.bytes != 0 {
		t.Errorf("%d bytes left counted in an empty queue", b.q.bytes)
	}
}

// TestQueueBudget checks that a message larger than the budget enters an
// empty queue, and that the next one waits for it to be taken.
func TestQueueBudget(t *testing.T) {
	q := newQueue(4, 100)
	q.put(msgOf(250))

	done := make(chan struct{})
	go func() {
		q.put(msgOf(10))
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("a message was queued past the budget")
	default:
	}
	q.took(<-q.msgs)
	<-done
	q.took(<-q.msgs)
	if q.bytes != 0 {
		t.Errorf("%d bytes counted in an empty queue", q.bytes)
	}
}
