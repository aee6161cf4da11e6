package checkpoint

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// commandWire is a command as it is first decoded: its lists stay raw
// until their counts have been checked, because the msgpack library
// allocates whatever length an array header of structs claims.
type commandWire struct {
	Term    uint64             `msgpack:"term"`
	Cursors msgpack.RawMessage `msgpack:"cursors"`
	Assign  bool               `msgpack:"assign,omitempty"`
	Members msgpack.RawMessage `msgpack:"members,omitempty"`
	Epoch   uint64             `msgpack:"epoch,omitempty"`
}

// decodeCommand decodes a raft log entry or a snapshot, allocating no
// more than its own size allows.
func decodeCommand(data []byte) (command, error) {
	var w commandWire
	if err := unmarshal(data, &w); err != nil {
		return command{}, err
	}
	c := command{Term: w.Term, Assign: w.Assign, Epoch: w.Epoch}
	var err error
	if c.Cursors, err = decodeList[entry](w.Cursors, "cursors", minEntryBytes); err != nil {
		return c, err
	}
	if c.Members, err = decodeList[string](w.Members, "members", 1); err != nil {
		return c, err
	}
	return c, nil
}

// unmarshal decodes data into v with a decoder of its own. The library's
// Unmarshal borrows a pooled decoder, and a string or bin whose header
// claims more bytes than follow grows that decoder's buffer by a MiB or
// more each time, for good: a stream of such ten-byte inputs took a
// process to gigabytes. A fresh decoder allocates at most about a MiB for
// a lying header, and it is garbage once the call returns.
func unmarshal(data []byte, v any) error {
	return msgpack.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// minEntryBytes is the least an encoded cursor entry takes: a map header
// and three one-byte keys, far below its real size, which is enough to
// bound what a lying header can make the decoder allocate.
const minEntryBytes = 4

// decodeList decodes a msgpack array of T whose every element takes at
// least min bytes, refusing a header that claims more elements than the
// bytes can hold.
func decodeList[T any](raw msgpack.RawMessage, what string, min int) ([]T, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := msgpack.NewDecoder(bytes.NewReader(raw))
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if n < 0 {
		return nil, nil
	}
	if n > len(raw)/min {
		return nil, fmt.Errorf("%s: %d elements in %d bytes", what, n, len(raw))
	}
	out := make([]T, n)
	for i := range out {
		if err := dec.Decode(&out[i]); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", what, i, err)
		}
	}
	return out, nil
}
