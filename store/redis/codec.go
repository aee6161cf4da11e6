package redis

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/xdrd/xdrd/record"
)

// Bins reach Redis in one of three modes, the first argument after the
// metadata of xdrd_write and xdrd_apply:
//
//   - "s": one hash field "b:<bin>" per bin. Used when the bins are a
//     canonical msgpack map of strings (what record.EncodeBins makes of
//     string bins), so that applications read them with xdrd_get and HGET,
//     and when read back the driver encodes them again to the same bytes.
//   - "m": the bins bytes as they are, in the field "m". Used for every
//     other value: numbers, lists and maps from other regions, and bytes
//     that are not msgpack at all. xdrd_get decodes msgpack maps from it.
//   - "n": no bins (a tombstone, or a live record with nil bins).
const (
	modeStrings = "s"
	modeBlob    = "m"
	modeNone    = "n"

	binFieldPrefix = "b:"
	blobField      = "m"
)

// appendBins appends the mode and bins arguments for bins to args.
func appendBins(args []any, bins []byte) []any {
	if len(bins) == 0 {
		return append(args, modeNone)
	}
	strs, ok := stringBins(bins)
	if !ok {
		return append(args, modeBlob, bins)
	}
	args = append(args, modeStrings)
	for name, v := range strs {
		args = append(args, name, v)
	}
	return args
}

// stringBins returns bins as a map of strings when they decode to a
// non-empty map of string values and encode back to exactly the same bytes.
func stringBins(bins []byte) (map[string]string, bool) {
	decoded, err := record.DecodeBins(bins)
	if err != nil || len(decoded) == 0 {
		return nil, false
	}
	strs := make(map[string]string, len(decoded))
	for name, v := range decoded {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		strs[name] = s
	}
	again, err := record.EncodeBins(decoded)
	if err != nil || !bytes.Equal(again, bins) {
		return nil, false
	}
	return strs, true
}

// fields is a record hash or a change-log entry as Redis returns it.
type fields map[string]string

// version builds the stored version from a record's fields. The caller
// fills in its address.
func (f fields) version() (record.Version, error) {
	var v record.Version
	gen, err := strconv.ParseUint(f["gen"], 10, 64)
	if err != nil {
		return v, fmt.Errorf("parse generation: %w", err)
	}
	lut, err := strconv.ParseInt(f["lut"], 10, 64)
	if err != nil {
		return v, fmt.Errorf("parse last-update time: %w", err)
	}
	origin, err := strconv.ParseUint(f["origin"], 10, 8)
	if err != nil {
		return v, fmt.Errorf("parse origin: %w", err)
	}
	exp, err := strconv.ParseInt(f["exp"], 10, 64)
	if err != nil {
		return v, fmt.Errorf("parse expiry: %w", err)
	}
	v.Meta = record.Meta{
		Generation: record.Generation(gen),
		LUT:        record.LUT(lut),
		Origin:     record.RegionID(origin),
		Expiry:     exp,
		Tombstone:  f["del"] == "1",
	}
	if v.Tombstone {
		return v, nil
	}
	if blob, ok := f[blobField]; ok {
		if blob != "" {
			v.Bins = []byte(blob)
		}
		return v, nil
	}
	strs := map[string]any{}
	for name, val := range f {
		if bin, ok := strings.CutPrefix(name, binFieldPrefix); ok {
			strs[bin] = val
		}
	}
	if len(strs) > 0 {
		if v.Bins, err = record.EncodeBins(strs); err != nil {
			return v, fmt.Errorf("encode string bins: %w", err)
		}
	}
	return v, nil
}

// fromValues converts a stream entry's values, which go-redis hands out as
// map[string]any, to fields.
func fromValues(values map[string]any) fields {
	f := make(fields, len(values))
	for k, v := range values {
		switch x := v.(type) {
		case string:
			f[k] = x
		case []byte:
			f[k] = string(x)
		default:
			f[k] = fmt.Sprint(x)
		}
	}
	return f
}

// parseMeta parses the generation, LUT, origin, expiry and tombstone flag
// that xdrd_apply returns as strings at res[i:i+5].
func parseMeta(res []any, i int) (record.Meta, error) {
	f := fields{}
	for j, name := range []string{"gen", "lut", "origin", "exp", "del"} {
		f[name] = fmt.Sprint(res[i+j])
	}
	v, err := f.version()
	return v.Meta, err
}
