package redis

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
)

// TestContract calls the library as applications do, with FCALL on a raw
// client, and checks the replies of issue 5's contract and what the driver
// sees of those writes.
func TestContract(t *testing.T) {
	srv := startServer(t)
	rdb := srv.client(t)
	ctx := context.Background()
	fcall := func(fn, key string, args ...any) any {
		t.Helper()
		res, err := rdb.FCall(ctx, fn, []string{key}, args...).Result()
		if err != nil {
			t.Fatalf("FCALL %s 1 %s %v: %v", fn, key, args, err)
		}
		return res
	}

	// Loaded but before xdrd has configured the region, writes are refused.
	if err := rdb.FunctionLoadReplace(ctx, library).Err(); err != nil {
		t.Fatalf("load library: %v", err)
	}
	err := rdb.FCall(ctx, "xdrd_put", []string{"installs:devices:k"}, "a", "1").Err()
	if err == nil || !strings.Contains(err.Error(), "xdrd") {
		t.Errorf("xdrd_put before xdrd started: err %v, want an xdrd error", err)
	}

	s := srv.open(t, 7, Options{})
	const key = "installs:devices:id:with:colons"
	if g := fcall("xdrd_put", key, "os", "android", "country", "fr"); g != int64(1) {
		t.Errorf("first xdrd_put returned %v, want generation 1", g)
	}
	if g := fcall("xdrd_put", key, "os", "ios"); g != int64(2) {
		t.Errorf("second xdrd_put returned %v, want generation 2", g)
	}
	if got := fcall("xdrd_get", key); !reflect.DeepEqual(got, []any{"os", "ios"}) {
		t.Errorf("xdrd_get = %v, want [os ios] (a put replaces every bin)", got)
	}
	meta := fcall("xdrd_meta", key).([]any)
	if len(meta) != 4 || meta[0] != int64(2) || meta[2] != int64(7) || meta[3] != int64(0) {
		t.Fatalf("xdrd_meta = %v, want [2 <lut> 7 0]", meta)
	}
	lut, err := strconv.ParseInt(meta[1].(string), 10, 64)
	if err != nil {
		t.Fatalf("xdrd_meta LUT %v: %v", meta[1], err)
	}

	// The driver reads the same record, with its address split at the
	// first two colons and its bins as msgpack of strings.
	v, found, err := s.Get(ctx, "installs", "devices", "id:with:colons")
	if err != nil || !found {
		t.Fatalf("driver get: found %v, err %v", found, err)
	}
	want, _ := record.EncodeBins(map[string]any{"os": "ios"})
	if v.Generation != 2 || v.LUT != record.LUT(lut) || v.Origin != 7 ||
		string(v.Bins) != string(want) {
		t.Errorf("driver get: %+v bins %x, want generation 2, LUT %d, bins %x",
			v.Meta, v.Bins, lut, want)
	}
	changes, err := s.Tail(ctx, "installs", 1, 10, 0)
	if err != nil || len(changes) != 2 || changes[1].Key != "id:with:colons" {
		t.Fatalf("tail after two xdrd_put: %d changes, err %v", len(changes), err)
	}

	if g := fcall("xdrd_del", key); g != int64(3) {
		t.Errorf("xdrd_del returned %v, want generation 3", g)
	}
	if got := fcall("xdrd_get", key); len(got.([]any)) != 0 {
		t.Errorf("xdrd_get of a deleted record = %v, want empty", got)
	}
	if m := fcall("xdrd_meta", key).([]any); m[0] != int64(3) || m[3] != int64(1) {
		t.Errorf("xdrd_meta of a deleted record = %v, want generation 3, deleted 1", m)
	}
	if got := fcall("xdrd_get", "installs:devices:never"); len(got.([]any)) != 0 {
		t.Errorf("xdrd_get of an absent record = %v, want empty", got)
	}
	if g := fcall("xdrd_del", "installs::never"); g != int64(1) {
		t.Errorf("xdrd_del of an absent record in the empty set returned %v, want 1", g)
	}

	for _, bad := range []string{"nocolon", "installs:devices", "installs:devices:", ":s:k"} {
		if err := rdb.FCall(ctx, "xdrd_put", []string{bad}, "a", "1").Err(); err == nil {
			t.Errorf("xdrd_put to %q: no error", bad)
		}
	}
	if err := rdb.FCall(ctx, "xdrd_put", []string{key}, "odd").Err(); err == nil {
		t.Errorf("xdrd_put with a bin and no value: no error")
	}
}

// TestBinsFormats checks that versions applied through the driver read
// back alike through the driver and through xdrd_get: string bins as hash
// fields, other values as one msgpack field rendered as strings.
func TestBinsFormats(t *testing.T) {
	srv := startServer(t)
	rdb := srv.client(t)
	ctx := context.Background()
	s := srv.open(t, 1, Options{})

	mixed, _ := record.EncodeBins(map[string]any{
		"n": 42, "ok": true, "tags": []any{"a", "b"}, "name": "x",
	})
	strs, _ := record.EncodeBins(map[string]any{"a": "1", "b": "two"})
	opaque := []byte("not msgpack")
	cases := []struct {
		key  string
		bins []byte
		get  map[string]string // xdrd_get's reply as a map; nil for an error
	}{
		{"strings", strs, map[string]string{"a": "1", "b": "two"}},
		{"mixed", mixed, map[string]string{"n": "42", "ok": "true", "tags": `["a","b"]`,
			"name": "x"}},
		{"opaque", opaque, nil},
	}
	for i, c := range cases {
		v := record.Version{Namespace: "ns", Set: "s", Key: c.key, Bins: c.bins,
			Meta: record.Meta{Generation: 1, LUT: record.LUT(1000 + i), Origin: 2}}
		if _, err := s.Apply(ctx, conflict.Generation, []record.Version{v}); err != nil {
			t.Fatalf("apply %s: %v", c.key, err)
		}
		got, _, err := s.Get(ctx, "ns", "s", c.key)
		if err != nil || string(got.Bins) != string(c.bins) {
			t.Errorf("driver get of %s: bins %x, err %v; want %x", c.key, got.Bins, err, c.bins)
		}

		res, err := rdb.FCall(ctx, "xdrd_get", []string{"ns:s:" + c.key}).StringSlice()
		if c.get == nil {
			if err == nil {
				t.Errorf("xdrd_get of %s bins: %v, want an error", c.key, res)
			}
			continue
		}
		pairs := map[string]string{}
		for j := 0; j+1 < len(res); j += 2 {
			pairs[res[j]] = res[j+1]
		}
		if err != nil || !reflect.DeepEqual(pairs, c.get) {
			t.Errorf("xdrd_get of %s bins = %v, err %v; want %v", c.key, pairs, err, c.get)
		}
	}

	hash, err := rdb.HGetAll(ctx, recordPrefix+"ns:s:strings").Result()
	if err != nil || hash["b:a"] != "1" || hash["origin"] != "2" {
		t.Errorf("hash of a string record = %v, err %v: want b:a = 1, origin = 2", hash, err)
	}
}
