package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/xdrd/xdrd/admin"
	"github.com/xdrd/xdrd/record"
)

const k1 = "/v1/kv/profiles/users/k1"

// answer is a GET answer with the bins kept as raw JSON, so that a test
// sees 5 and 5.0 as different.
type answer struct {
	Bins       map[string]json.RawMessage `json:"bins"`
	Generation uint64                     `json:"generation"`
	LUT        int64                      `json:"lut"`
	Origin     string                     `json:"origin"`
	Expiry     int64                      `json:"expiry"`
}

// generation decodes a PUT or DELETE answer strictly.
func generation(t *testing.T, body string) uint64 {
	t.Helper()
	var got struct {
		Generation uint64 `json:"generation"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return got.Generation
}

// errorText decodes an error answer, {"error": "..."}.
func errorText(t *testing.T, body string) string {
	t.Helper()
	var got struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Error == "" {
		t.Fatalf("error answer %q is not {\"error\": ...}", body)
	}
	return got.Error
}

// put sends a PUT that must succeed and returns the new generation.
func put(t *testing.T, h http.Handler, path, body string) uint64 {
	t.Helper()
	code, resp := do(t, h, http.MethodPut, path, body)
	if code != http.StatusOK {
		t.Fatalf("PUT %s %s = %d %s, want 200", path, body, code, resp)
	}
	return generation(t, resp)
}

// get sends a GET that must find the record.
func get(t *testing.T, h http.Handler, path string) answer {
	t.Helper()
	code, resp := do(t, h, http.MethodGet, path, "")
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d %s, want 200", path, code, resp)
	}
	var a answer
	dec := json.NewDecoder(strings.NewReader(resp))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("decode GET answer %q: %v", resp, err)
	}
	return a
}

// wantNotFound checks that a GET answers 404.
func wantNotFound(t *testing.T, h http.Handler, path string) {
	t.Helper()
	if code, resp := do(t, h, http.MethodGet, path, ""); code != http.StatusNotFound {
		t.Fatalf("GET %s = %d %s, want 404", path, code, resp)
	}
}

func TestPutGet(t *testing.T) {
	d, st := newDaemon(t)
	h := handler(t, d)
	body := `{"bins":{"n":5,"f":1.5,"s":"x","l":[1,"a"],"m":{"a":1}}}`

	if g := put(t, h, k1, body); g != 1 {
		t.Errorf("first PUT: generation %d, want 1", g)
	}
	if g := put(t, h, k1, body); g != 2 {
		t.Errorf("second PUT: generation %d, want 2", g)
	}

	a := get(t, h, k1)
	want := map[string]string{
		"n": `5`, "f": `1.5`, "s": `"x"`, "l": `[1,"a"]`, "m": `{"a":1}`,
	}
	if len(a.Bins) != len(want) {
		t.Errorf("bins %v, want %v", a.Bins, want)
	}
	for name, w := range want {
		if got := compact(t, a.Bins[name]); got != w {
			t.Errorf("bin %q = %s, want %s", name, got, w)
		}
	}

	v, found, err := st.Get(context.Background(), "profiles", "users", "k1")
	if err != nil || !found {
		t.Fatalf("store get: found %v, err %v", found, err)
	}
	if a.Generation != 2 || a.LUT != int64(v.LUT) || a.LUT <= 0 {
		t.Errorf("generation %d lut %d, want 2 and the stored lut %d", a.Generation, a.LUT, v.LUT)
	}
	if a.Origin != "eu-west" {
		t.Errorf("origin %q, want eu-west", a.Origin)
	}
	if a.Expiry != 0 {
		t.Errorf("expiry %d for a record without ttl, want none", a.Expiry)
	}
}

// compact rewrites a JSON value without spaces, keeping numbers as they
// were written.
func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("bin %s: %v", raw, err)
	}
	return b.String()
}

func TestLargeIntegersStayExact(t *testing.T) {
	d, _ := newDaemon(t)
	h := handler(t, d)
	put(t, h, k1, `{"bins":{"min":-9223372036854775808,"max":18446744073709551615}}`)

	a := get(t, h, k1)
	if got := string(a.Bins["min"]); got != "-9223372036854775808" {
		t.Errorf("min = %s, want -9223372036854775808", got)
	}
	if got := string(a.Bins["max"]); got != "18446744073709551615" {
		t.Errorf("max = %s, want 18446744073709551615", got)
	}
}

func TestDelete(t *testing.T) {
	d, _ := newDaemon(t)
	h := handler(t, d)
	put(t, h, k1, `{"bins":{"n":1}}`)

	code, resp := do(t, h, http.MethodDelete, k1, "")
	if code != http.StatusOK {
		t.Fatalf("DELETE = %d %s, want 200", code, resp)
	}
	if g := generation(t, resp); g != 2 {
		t.Errorf("DELETE: generation %d, want 2", g)
	}
	wantNotFound(t, h, k1)

	// A write after the delete continues from the tombstone's generation.
	if g := put(t, h, k1, `{"bins":{"n":2}}`); g != 3 {
		t.Errorf("PUT after DELETE: generation %d, want 3", g)
	}
}

func TestDeleteNeverWritten(t *testing.T) {
	d, _ := newDaemon(t)
	h := handler(t, d)

	// The tombstone is written anyway, so that the delete replicates.
	code, resp := do(t, h, http.MethodDelete, "/v1/kv/profiles/users/ghost", "")
	if code != http.StatusOK || generation(t, resp) != 1 {
		t.Fatalf("DELETE of a never-written key = %d %s, want 200 generation 1", code, resp)
	}
	wantNotFound(t, h, "/v1/kv/profiles/users/ghost")
}

func TestGetNeverWritten(t *testing.T) {
	d, _ := newDaemon(t)
	h := handler(t, d)
	code, resp := do(t, h, http.MethodGet, "/v1/kv/profiles/users/nobody", "")
	if code != http.StatusNotFound {
		t.Fatalf("GET = %d %s, want 404", code, resp)
	}
	if msg := errorText(t, resp); msg != "not found" {
		t.Errorf("error %q, want \"not found\"", msg)
	}
}

func TestUnknownNamespace(t *testing.T) {
	d, st := newDaemon(t)
	h := handler(t, d)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		code, resp := do(t, h, method, "/v1/kv/orders/users/k1", `{"bins":{"n":1}}`)
		if code != http.StatusNotFound {
			t.Errorf("%s unknown namespace = %d %s, want 404", method, code, resp)
			continue
		}
		if msg := errorText(t, resp); !strings.Contains(msg, `"orders"`) {
			t.Errorf("%s unknown namespace: error %q does not name it", method, msg)
		}
	}
	if last, _ := st.Last(context.Background(), "orders"); last != 0 {
		t.Errorf("store wrote %d changes to an unknown namespace", last)
	}
}

func TestBadBodies(t *testing.T) {
	big := `{"bins":{"b":"` + strings.Repeat("x", 2*record.MaxBinsLen) + `"}}`
	tests := []struct {
		name, body, want string
	}{
		{"not json", `bins=5`, "invalid character"},
		{"empty", ``, "EOF"},
		{"unknown field", `{"bins":{"n":1},"generation":7}`, `unknown field "generation"`},
		{"missing bins", `{"ttl":5}`, `"bins"`},
		{"null bins", `{"bins":null}`, `"bins"`},
		{"bins not an object", `{"bins":[1,2]}`, "bins"},
		{"trailing object", `{"bins":{"n":1}} {"bins":{"n":2}}`, "trailing data"},
		{"trailing brace", `{"bins":{"n":1}}}`, "trailing data"},
		{"trailing bracket", `{"bins":{"n":1}}]`, "trailing data"},
		{"negative ttl", `{"bins":{"n":1},"ttl":-1}`, `"ttl"`},
		{"ttl past any date", `{"bins":{"n":1},"ttl":9223372036854775807}`, `"ttl"`},
		{"fractional ttl", `{"bins":{"n":1},"ttl":1.5}`, "ttl"},
		{"over the limit", big, "too large"},
		{"empty bin name", `{"bins":{"":1}}`, "empty bin name"},
		{"number out of range", `{"bins":{"n":1e400}}`, `"n"`},
		{"nested number out of range", `{"bins":{"l":[1,{"x":-1e999}]}}`, `"l"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, st := newDaemon(t)
			code, resp := do(t, handler(t, d), http.MethodPut, k1, tt.body)
			if code != http.StatusBadRequest {
				t.Fatalf("PUT = %d %.200s, want 400", code, resp)
			}
			if msg := errorText(t, resp); !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if last, _ := st.Last(context.Background(), "profiles"); last != 0 {
				t.Errorf("a rejected PUT wrote %d changes", last)
			}
		})
	}
}

func TestBadAddress(t *testing.T) {
	d, _ := newDaemon(t)
	h := handler(t, d)
	long := "/v1/kv/profiles/users/" + strings.Repeat("k", record.MaxKeyLen+1)
	code, resp := do(t, h, http.MethodPut, long, `{"bins":{"n":1}}`)
	if code != http.StatusBadRequest {
		t.Fatalf("PUT with a %d-byte key = %d %s, want 400", record.MaxKeyLen+1, code, resp)
	}
	if msg := errorText(t, resp); !strings.Contains(msg, "key") {
		t.Errorf("error %q does not name the key", msg)
	}
}

func TestTTL(t *testing.T) {
	d, st := newDaemon(t)
	h := handler(t, d)
	ctx := context.Background()

	before := time.Now().Unix()
	put(t, h, k1, `{"bins":{"n":1},"ttl":1}`)
	after := time.Now().Unix()
	a := get(t, h, k1)
	if a.Expiry < before+1 || a.Expiry > after+1 {
		t.Errorf("expiry %d, want between %d and %d", a.Expiry, before+1, after+1)
	}

	// The same record once its time has passed, written through the store
	// rather than waited for.
	bins, err := record.EncodeBins(map[string]any{"n": 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "profiles", "users", "k1", bins, time.Now().Unix()-1); err != nil {
		t.Fatalf("store put: %v", err)
	}
	wantNotFound(t, h, k1)

	// A ttl of 0 means the record never expires.
	put(t, h, k1, `{"bins":{"n":3},"ttl":0}`)
	if a := get(t, h, k1); a.Expiry != 0 {
		t.Errorf("ttl 0: expiry %d, want none", a.Expiry)
	}
}

func TestNoKV(t *testing.T) {
	d := &daemon{}
	h := handler(t, d)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		code, resp := do(t, h, method, k1, `{"bins":{"n":1}}`)
		if code != http.StatusNotImplemented {
			t.Errorf("%s without a KV store = %d %s, want 501", method, code, resp)
			continue
		}
		errorText(t, resp)
	}
	// The rest of the API does not depend on the store.
	if code, _ := do(t, h, http.MethodGet, "/livez", ""); code != http.StatusOK {
		t.Errorf("GET /livez without a KV store = %d, want 200", code)
	}
}

func TestStoreFailure(t *testing.T) {
	d, st := newDaemon(t)
	core, logs := observer.New(zap.WarnLevel)
	h := admin.Handler(d, prometheus.NewRegistry(), zap.New(core))
	_ = st.Close()

	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		code, resp := do(t, h, method, k1, `{"bins":{"n":1}}`)
		if code != http.StatusInternalServerError {
			t.Errorf("%s on a closed store = %d %s, want 500", method, code, resp)
			continue
		}
		if msg := errorText(t, resp); !strings.Contains(msg, "closed") {
			t.Errorf("%s: error %q does not say the store is closed", method, msg)
		}
	}
	if n := logs.FilterMessage("kv write failed").Len(); n != 2 {
		t.Errorf("%d warnings for failed writes, want 2 (PUT and DELETE)", n)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	d, _ := newDaemon(t)
	code, _ := do(t, handler(t, d), http.MethodPost, k1, `{"bins":{"n":1}}`)
	if code != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", code)
	}
}
