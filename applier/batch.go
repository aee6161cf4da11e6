package applier

import (
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	// pullAhead is how many batches' worth of bytes the client may hold or
	// have asked for. It asks for more once half of that is taken, so about
	// two batches are on their way while the store applies one.
	pullAhead = 4
	// natsMaxPayload is nats-server's default max_payload, the largest
	// message a server accepts unless configured otherwise. A frame over
	// MaxFrame may be that large, and it still has to reach the applier to
	// be dead-lettered.
	natsMaxPayload = 1 << 20
)

// pullBytes bounds the bytes (subjects, headers and data) the client
// buffers or has asked the server for: 16 MiB by default. The server does
// not put into a pull request a message larger than what the request has
// left, and the client asks only for the bound less what it holds, so a
// message larger than the whole bound would stall the link for good,
// retried without an error. Hence a few times the largest message the
// applier should see: a frame of MaxFrame, a batch, or a frame over the
// limit on a server with the default max_payload. A server whose
// max_payload is larger than 16 MiB needs a MaxFrame or MaxBatchBytes of at
// least a quarter of it.
func (c *Config) pullBytes() int {
	return pullAhead * max(c.MaxBatchBytes, c.MaxFrame, natsMaxPayload)
}

// queue carries messages from the pump to the batcher. Its channel bounds
// the messages waiting in it and its budget their frame data: without the
// budget the pump would move the client's buffer, bounded in bytes, into
// a channel bounded only in messages, and the client would fetch more.
type queue struct {
	msgs chan jetstream.Msg

	mu     sync.Mutex
	room   *sync.Cond // signalled when bytes falls
	bytes  int        // frame data in msgs
	budget int
}

func newQueue(msgs, budget int) *queue {
	q := &queue{msgs: make(chan jetstream.Msg, msgs), budget: budget}
	q.room = sync.NewCond(&q.mu)
	return q
}

// put queues m once its data fits the budget. A message larger than the
// budget waits for the queue to empty, then goes in alone.
func (q *queue) put(m jetstream.Msg) {
	n := len(m.Data())
	q.mu.Lock()
	for q.bytes > 0 && q.bytes+n > q.budget {
		q.room.Wait()
	}
	q.bytes += n
	q.mu.Unlock()
	q.msgs <- m
}

// took gives back to the budget the data of m, just received from msgs.
// Every receive must call it, or the pump waits for room forever.
func (q *queue) took(m jetstream.Msg) {
	q.mu.Lock()
	q.bytes -= len(m.Data())
	q.mu.Unlock()
	q.room.Signal()
}

// pump moves messages from the iterator to the queue so that the applier
// can take whatever has arrived as one batch. It closes the queue when the
// iterator ends, after putting the reason in failed.
func pump(it jetstream.MessagesContext, q *queue, failed chan<- error) {
	defer close(q.msgs)
	for {
		m, err := it.Next()
		if err != nil {
			failed <- err
			return
		}
		q.put(m)
	}
}

// batcher forms store batches of whatever has arrived, up to maxMsgs
// messages and maxBytes of frame data.
type batcher struct {
	q        *queue
	maxMsgs  int
	maxBytes int
	// next opens the next batch: a channel cannot be peeked at, so the
	// message that would have taken the last batch past maxBytes was
	// received all the same and waits here.
	next jetstream.Msg
}

func newBatcher(maxMsgs, maxBytes int) *batcher {
	return &batcher{q: newQueue(maxMsgs, maxBytes), maxMsgs: maxMsgs, maxBytes: maxBytes}
}

// opened reports whether a message waits to open the next batch.
func (b *batcher) opened() bool { return b.next != nil }

// open makes m, just received from the queue, the first of the next batch.
func (b *batcher) open(m jetstream.Msg) {
	b.q.took(m)
	b.next = m
}

// fill appends to batch the message that opens it and whatever else has
// arrived, stopping before the message that would take it past maxMsgs or
// maxBytes; that one opens the next batch. The first message goes in
// whatever its size, so a message larger than maxBytes is a batch alone.
func (b *batcher) fill(batch []jetstream.Msg) []jetstream.Msg {
	batch = append(batch, b.next)
	size := len(b.next.Data())
	b.next = nil
	for len(batch) < b.maxMsgs {
		select {
		case m, ok := <-b.q.msgs:
			if !ok {
				return batch
			}
			b.q.took(m)
			if size+len(m.Data()) > b.maxBytes {
				b.next = m
				return batch
			}
			batch = append(batch, m)
			size += len(m.Data())
		default:
			return batch
		}
	}
	return batch
}

// release hands back the messages fetched but not applied when a pass
// ends, so that whoever applies the link next — this applier after a
// pause or a failure, or a new leader — gets them at once instead of
// after the consumer's ack wait. The iterator stops pulling and gives up
// what it buffered.
func (b *batcher) release(it jetstream.MessagesContext) {
	it.Drain()
	if b.next != nil {
		_ = b.next.Nak()
		b.next = nil
	}
	for m := range b.q.msgs {
		b.q.took(m)
		_ = m.Nak()
	}
}
