package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/record"
)

// Limits on a relayed batch, which comes from the network.
const (
	// relayChunk is the most cursors a member sends in one request: about
	// 300 KiB encoded, under NATS's default 1 MiB message limit.
	relayChunk = 8192
	// maxRelayBytes bounds an encoded batch a leader accepts.
	maxRelayBytes = 1 << 20
	// maxRelayCursors bounds the cursors of one batch a leader accepts.
	maxRelayCursors = 2 * relayChunk
	// maxNamespaceBytes bounds a namespace name; topologies allow 63.
	maxNamespaceBytes = 255
)

// relayTimeout bounds one round trip to the leader.
const relayTimeout = 2 * time.Second

// Relay carries the cursors staged on a member that does not lead to the
// leader, which commits them. The region wires it to NATS request-reply;
// a group of one needs none.
type Relay interface {
	// Request sends data to the member with the given ID and returns its
	// answer.
	Request(ctx context.Context, member string, data []byte) ([]byte, error)
	// Serve calls handle with every request sent to member, and answers
	// with what it returns, until stop is called.
	Serve(member string, handle func(data []byte) []byte) (stop func(), err error)
}

// relayBatch is what a member sends the leader: the cursors it staged in
// term.
type relayBatch struct {
	From    string  `msgpack:"from"`
	Term    uint64  `msgpack:"term"`
	Cursors []entry `msgpack:"cursors"`
}

// relayReply is the leader's answer. Error is empty when the leader took
// the batch; Refused counts the cursors it dropped as stale.
type relayReply struct {
	Refused int    `msgpack:"refused"`
	Error   string `msgpack:"error,omitempty"`
}

// relayWire is a relayed batch as it is first decoded: the cursors stay
// raw until their count has been checked, because the msgpack library
// would allocate whatever length an array header claims.
type relayWire struct {
	From    string             `msgpack:"from"`
	Term    uint64             `msgpack:"term"`
	Cursors msgpack.RawMessage `msgpack:"cursors"`
}

// decodeRelayBatch decodes a relayed batch and checks its bounds, naming
// what is wrong. It allocates no more than the batch's own size allows.
func decodeRelayBatch(data []byte) (relayBatch, error) {
	var b relayBatch
	if len(data) > maxRelayBytes {
		return b, fmt.Errorf("relayed batch of %d bytes exceeds %d", len(data), maxRelayBytes)
	}
	var w relayWire
	if err := unmarshal(data, &w); err != nil {
		return b, fmt.Errorf("decode relayed batch: %w", err)
	}
	b.From, b.Term = w.From, w.Term
	if b.From == "" {
		return b, errors.New("relayed batch: empty sender")
	}
	cursors, err := decodeList[entry](w.Cursors, "cursors", minEntryBytes)
	if err != nil {
		return b, fmt.Errorf("decode relayed batch: %w", err)
	}
	if len(cursors) > maxRelayCursors {
		return b, fmt.Errorf("relayed batch: %d cursors exceed %d", len(cursors), maxRelayCursors)
	}
	b.Cursors = cursors
	for i := range b.Cursors {
		e := &b.Cursors[i]
		if e.Namespace == "" || len(e.Namespace) > maxNamespaceBytes {
			return b, fmt.Errorf("relayed batch: cursors[%d]: namespace of %d bytes",
				i, len(e.Namespace))
		}
		if e.Shard < 0 || e.Shard >= record.Partitions {
			return b, fmt.Errorf("relayed batch: cursors[%d]: shard %d outside 0-%d",
				i, e.Shard, record.Partitions-1)
		}
	}
	return b, nil
}

// relay sends a batch staged in term to the leader, in requests of at
// most relayChunk cursors so that each fits a NATS message. What could not
// be delivered is staged again; what the leader refused is counted here
// too.
func (n *Node) relay(term uint64, batch map[Key]uint64) error {
	leader := n.Leader()
	if n.cfg.Relay == nil || leader == "" {
		n.restage(term, batch)
		return fmt.Errorf("relay checkpoints: %w (leader %q)", ErrNotLeader, leader)
	}
	entries := sortedEntries(batch)
	for len(entries) > 0 {
		chunk := entries[:min(len(entries), relayChunk)]
		if err := n.relayChunk(leader, term, chunk); err != nil {
			n.restage(term, batch)
			return err
		}
		entries = entries[len(chunk):]
	}
	return nil
}

// relayChunk sends one request of cursors to the leader.
func (n *Node) relayChunk(leader string, term uint64, cursors []entry) error {
	data, err := msgpack.Marshal(&relayBatch{From: n.cfg.ID, Term: term, Cursors: cursors})
	if err != nil {
		return fmt.Errorf("encode relayed batch: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
	defer cancel()
	answer, err := n.cfg.Relay.Request(ctx, leader, data)
	if err != nil {
		return fmt.Errorf("relay checkpoints to %s: %w", leader, err)
	}
	var reply relayReply
	if err := unmarshal(answer, &reply); err != nil {
		return fmt.Errorf("decode answer of %s: %w", leader, err)
	}
	if reply.Error != "" {
		return fmt.Errorf("relay checkpoints to %s: %s", leader, reply.Error)
	}
	if reply.Refused > 0 {
		n.metrics.refused.WithLabelValues(reasonStale).Add(float64(reply.Refused))
	}
	return nil
}

// serveRelay answers the batches other members relay to this one. Only
// the leader takes them; it stages the cursors that were staged in its own
// term by the member that owns their shard, and refuses the rest as stale.
func (n *Node) serveRelay(data []byte) []byte {
	reply := n.takeRelayed(data)
	out, err := msgpack.Marshal(&reply)
	if err != nil {
		n.log.Warn("encode relay answer", zap.Error(err))
	}
	return out
}

func (n *Node) takeRelayed(data []byte) relayReply {
	b, err := decodeRelayBatch(data)
	if err != nil {
		n.log.Warn("refuse relayed checkpoints", zap.Error(err))
		return relayReply{Error: err.Error()}
	}
	term := n.raft.CurrentTerm()
	if !n.IsLeader() {
		return relayReply{Error: fmt.Sprintf("%s is not the leader (leader %q)", n.cfg.ID, n.Leader())}
	}

	a := n.Assignment()
	var reply relayReply
	n.stageMu.Lock()
	for _, e := range b.Cursors {
		k := Key{Namespace: e.Namespace, Shard: e.Shard}
		if b.Term != term || a.Owner(k.Namespace, k.Shard) != b.From {
			reply.Refused++
			continue
		}
		s := n.staged[k]
		if s.term != term {
			s = staged{term: term}
		}
		s.cursor = max(s.cursor, e.Cursor)
		n.staged[k] = s
	}
	n.stageMu.Unlock()

	if reply.Refused > 0 {
		n.metrics.refused.WithLabelValues(reasonStale).Add(float64(reply.Refused))
		n.log.Info("refused stale relayed cursors", zap.String("member", b.From),
			zap.Uint64("batch-term", b.Term), zap.Uint64("term", term),
			zap.Int("refused", reply.Refused))
	}
	return reply
}
