package record

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// MaxBinDepth bounds how deeply lists and maps may nest inside one bin, so
// that decoding a hostile value cannot recurse without limit.
const MaxBinDepth = 16

// EncodeBins encodes bins (name → value) canonically: map keys sorted, so
// equal bins always encode to equal bytes and regions can compare records
// byte for byte. Values may be string, integers, float64, []byte, bool,
// nil, []any and map[string]any.
func EncodeBins(bins map[string]any) ([]byte, error) {
	for name, v := range bins {
		if name == "" {
			return nil, fmt.Errorf("%w: empty bin name", ErrInvalid)
		}
		if err := checkValue(v, 0); err != nil {
			return nil, fmt.Errorf("bin %q: %w", name, err)
		}
	}

	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	// Every integer in its shortest form, whatever its Go type, so that
	// int8(5), int(5) and a decoded int64(5) encode alike.
	enc.UseCompactInts(true)
	if err := enc.Encode(bins); err != nil {
		return nil, fmt.Errorf("encode bins: %w", err)
	}
	if buf.Len() > MaxBinsLen {
		return nil, fmt.Errorf("%w: bins of %d bytes exceed %d", ErrInvalid, buf.Len(), MaxBinsLen)
	}
	return buf.Bytes(), nil
}

// DecodeBins decodes what EncodeBins produced. Integers come back as
// int64 or uint64, floats as float64, bytes as []byte, lists as []any and
// maps as map[string]any. It is safe on hostile input: it rejects data over
// MaxBinsLen, nesting deeper than MaxBinDepth, non-string map keys, msgpack
// extensions and trailing bytes, and never allocates more elements than the
// input has bytes.
func DecodeBins(data []byte) (map[string]any, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if len(data) > MaxBinsLen {
		return nil, fmt.Errorf("%w: bins of %d bytes exceed %d", ErrInvalid, len(data), MaxBinsLen)
	}

	r := bytes.NewReader(data)
	d := binDecoder{r: r, dec: msgpack.NewDecoder(r)}
	d.dec.UseLooseInterfaceDecoding(true)
	bins, err := d.decodeMap(-1)
	if err == nil && r.Len() != 0 {
		err = fmt.Errorf("%w: %d trailing bytes", ErrInvalid, r.Len())
	}
	if err != nil {
		return nil, fmt.Errorf("decode bins: %w", err)
	}
	for name := range bins {
		if name == "" {
			return nil, fmt.Errorf("decode bins: %w: empty bin name", ErrInvalid)
		}
	}
	return bins, nil
}

// binDecoder decodes bin values with the depth limit of checkValue: a bin's
// value is at depth 0, the elements of a list or map one deeper. The
// decoder reads r directly (a bytes.Reader needs no buffer), so r.Len() is
// what remains of the input and bounds every length the input claims.
type binDecoder struct {
	r   *bytes.Reader
	dec *msgpack.Decoder
}

func (d binDecoder) decodeValue(depth int) (any, error) {
	if depth > MaxBinDepth {
		return nil, fmt.Errorf("%w: value nests deeper than %d", ErrInvalid, MaxBinDepth)
	}
	c, err := d.dec.PeekCode()
	if err != nil {
		return nil, err
	}

	switch {
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		return d.decodeList(depth)
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		return d.decodeMap(depth)
	case msgpcode.IsBin(c):
		return d.decodeBytes()
	case msgpcode.IsExt(c):
		return nil, fmt.Errorf("%w: unsupported msgpack extension", ErrInvalid)
	}
	return d.dec.DecodeInterfaceLoose()
}

func (d binDecoder) decodeList(depth int) ([]any, error) {
	n, err := d.dec.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	if n > d.r.Len() {
		return nil, fmt.Errorf("%w: list of %d elements with %d bytes left",
			ErrInvalid, n, d.r.Len())
	}
	list := make([]any, n)
	for i := range list {
		if list[i], err = d.decodeValue(depth + 1); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// decodeBytes reads a bin value. msgpack's own DecodeBytes allocates the
// length the input claims before reading, up to 4 GiB.
func (d binDecoder) decodeBytes() ([]byte, error) {
	n, err := d.dec.DecodeBytesLen()
	if err != nil {
		return nil, err
	}
	if n > d.r.Len() {
		return nil, fmt.Errorf("%w: bytes value of %d bytes with %d left",
			ErrInvalid, n, d.r.Len())
	}
	b := make([]byte, n)
	if err := d.dec.ReadFull(b); err != nil {
		return nil, err
	}
	return b, nil
}

// decodeMap decodes a map whose values are at depth+1; nil decodes as nil.
func (d binDecoder) decodeMap(depth int) (map[string]any, error) {
	n, err := d.dec.DecodeMapLen()
	if err != nil || n < 0 {
		return nil, err
	}
	if n > d.r.Len()/2 {
		return nil, fmt.Errorf("%w: map of %d entries with %d bytes left",
			ErrInvalid, n, d.r.Len())
	}
	m := make(map[string]any, n)
	for range n {
		c, err := d.dec.PeekCode()
		if err != nil {
			return nil, err
		}
		if !msgpcode.IsString(c) {
			return nil, fmt.Errorf("%w: map key of msgpack type %#x", ErrInvalid, c)
		}
		k, err := d.dec.DecodeString()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%w: duplicate map key %q", ErrInvalid, k)
		}
		if m[k], err = d.decodeValue(depth + 1); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func checkValue(v any, depth int) error {
	if depth > MaxBinDepth {
		return fmt.Errorf("%w: value nests deeper than %d", ErrInvalid, MaxBinDepth)
	}
	switch x := v.(type) {
	case nil, string, []byte, bool, float64, float32,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return nil
	case []any:
		for _, e := range x {
			if err := checkValue(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for _, e := range x {
			if err := checkValue(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("%w: unsupported value type %T", ErrInvalid, v)
	}
}
