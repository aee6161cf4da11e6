package admin_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/xdrd/xdrd/admin"
	"github.com/xdrd/xdrd/checkpoint"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/store/memory"
)

// region is the ID of the region the test daemon runs in.
const region record.RegionID = 1

// daemon is a small admin.Daemon: one region called eu-west with the
// namespace "profiles", and whatever store, readiness and status a test
// gives it.
type daemon struct {
	kv     store.Store
	ready  error
	status any
	paused map[string]bool

	notLeader bool
	changes   []string
}

// Pause and Resume know one link, from us-east.
func (d *daemon) Pause(source string) error  { return d.setPaused(source, true) }
func (d *daemon) Resume(source string) error { return d.setPaused(source, false) }

func (d *daemon) setPaused(source string, p bool) error {
	if source != "us-east" {
		return fmt.Errorf("no link from %q", source)
	}
	if d.paused == nil {
		d.paused = make(map[string]bool)
	}
	d.paused[source] = p
	return nil
}

func (d *daemon) Checkpoints() any { return map[string]any{"term": 3} }

// RemoveMember and AddMember act as a follower would when the test sets
// notLeader, and otherwise record the membership.
func (d *daemon) RemoveMember(id string) error { return d.changeMember("-" + id) }
func (d *daemon) AddMember(id, address string) error {
	return d.changeMember("+" + id + "@" + address)
}

func (d *daemon) changeMember(change string) error {
	if d.notLeader {
		return fmt.Errorf("change member: %w", checkpoint.ErrNotLeader)
	}
	d.changes = append(d.changes, change)
	return nil
}

func (d *daemon) Ready() error    { return d.ready }
func (d *daemon) Status() any     { return d.status }
func (d *daemon) KV() store.Store { return d.kv }

func (d *daemon) Namespace(name string) bool { return name == "profiles" }

func (d *daemon) RegionName(id uint8) string {
	if record.RegionID(id) == region {
		return "eu-west"
	}
	return ""
}

// newDaemon returns a daemon over a fresh memory store, closed when the
// test ends.
func newDaemon(t *testing.T) (*daemon, *memory.Store) {
	t.Helper()
	st := memory.New(region, record.NewClock(nil))
	t.Cleanup(func() { _ = st.Close() })
	return &daemon{kv: st}, st
}

// handler serves d's admin API with metrics from an empty registry.
func handler(t *testing.T, d admin.Daemon) http.Handler {
	t.Helper()
	return admin.Handler(d, prometheus.NewRegistry(), zaptest.NewLogger(t))
}

// do sends one request to h and returns the status code and body.
func do(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, r))
	return w.Code, w.Body.String()
}

func TestLivez(t *testing.T) {
	d, _ := newDaemon(t)
	code, body := do(t, handler(t, d), http.MethodGet, "/livez", "")
	if code != http.StatusOK {
		t.Fatalf("GET /livez = %d %q, want 200", code, body)
	}
}

func TestReadyz(t *testing.T) {
	d, _ := newDaemon(t)
	h := handler(t, d)

	if code, body := do(t, h, http.MethodGet, "/readyz", ""); code != http.StatusOK {
		t.Fatalf("ready daemon: GET /readyz = %d %q, want 200", code, body)
	}

	d.ready = errors.New("nats: connection closed")
	code, body := do(t, h, http.MethodGet, "/readyz", "")
	if code != http.StatusServiceUnavailable {
		t.Errorf("unready daemon: GET /readyz = %d, want 503", code)
	}
	if !strings.Contains(body, "nats: connection closed") {
		t.Errorf("unready daemon: body %q does not give the reason", body)
	}
}

func TestStatus(t *testing.T) {
	d, _ := newDaemon(t)
	d.status = map[string]any{
		"region": "eu-west",
		"role":   "leader",
		"namespaces": []any{
			map[string]any{"name": "profiles", "lag_seconds": 0.5},
		},
	}
	w := httptest.NewRecorder()
	handler(t, d).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/status", nil))

	if w.Code != http.StatusOK {
		t.Fatalf("GET /v1/status = %d %q, want 200", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var got any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode status %q: %v", w.Body, err)
	}
	if !reflect.DeepEqual(got, d.status) {
		t.Errorf("status = %v, want %v", got, d.status)
	}
}

func TestMetrics(t *testing.T) {
	d, _ := newDaemon(t)
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "xdrd_test_events_total", Help: "Events counted by the admin test.",
	})
	reg.MustRegister(c)
	c.Add(3)

	h := admin.Handler(d, reg, zaptest.NewLogger(t))
	code, body := do(t, h, http.MethodGet, "/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200", code)
	}
	if !strings.Contains(body, "\nxdrd_test_events_total 3\n") {
		t.Errorf("exposition lacks the counter:\n%s", body)
	}
}

func TestServeAndClose(t *testing.T) {
	d, _ := newDaemon(t)
	srv, err := admin.Serve("127.0.0.1:0", handler(t, d), zap.NewNop())
	if err != nil {
		t.Fatalf("serve: %v", err)
	}

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + srv.Addr() + "/livez")
	if err != nil {
		_ = srv.Close()
		t.Fatalf("GET /livez: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /livez over TCP = %d, want 200", resp.StatusCode)
	}

	if err := srv.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := client.Get("http://" + srv.Addr() + "/livez"); err == nil {
		t.Error("GET after close succeeded")
	}
}

func TestServeBadAddress(t *testing.T) {
	if srv, err := admin.Serve("127.0.0.1:-1", http.NotFoundHandler(), zap.NewNop()); err == nil {
		_ = srv.Close()
		t.Fatal("serve on port -1 succeeded")
	}
}

func TestPauseResume(t *testing.T) {
	d := &daemon{}
	h := handler(t, d)
	for _, step := range []struct {
		path   string
		code   int
		paused bool
	}{
		{"/v1/links/us-east/pause", http.StatusOK, true},
		{"/v1/links/us-east/resume", http.StatusOK, false},
		{"/v1/links/nowhere/pause", http.StatusNotFound, false},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, step.path, nil))
		if rec.Code != step.code {
			t.Fatalf("POST %s: %d, want %d: %s", step.path, rec.Code, step.code, rec.Body)
		}
		if d.paused["us-east"] != step.paused {
			t.Fatalf("after %s paused=%v", step.path, d.paused["us-east"])
		}
	}
}

func TestMembers(t *testing.T) {
	d, _ := newDaemon(t)
	h := handler(t, d)

	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/v1/members/remove?id=10.0.0.2:7946", http.StatusOK, `"id": "10.0.0.2:7946"`},
		{"/v1/members/add?id=10.0.0.2:7946&address=10.0.0.2:7946", http.StatusOK, `"address"`},
		{"/v1/members/remove", http.StatusBadRequest, "query parameter id: missing"},
		{"/v1/members/add?id=x", http.StatusBadRequest, "query parameter address: missing"},
	} {
		code, body := do(t, h, http.MethodPost, tc.path, "")
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s = %d %q, want %d and %q", tc.path, code, body, tc.code, tc.want)
		}
	}
	want := []string{"-10.0.0.2:7946", "+10.0.0.2:7946@10.0.0.2:7946"}
	if !reflect.DeepEqual(d.changes, want) {
		t.Errorf("membership changes = %v, want %v", d.changes, want)
	}

	d.notLeader = true
	code, body := do(t, h, http.MethodPost, "/v1/members/remove?id=a", "")
	if code != http.StatusConflict || !strings.Contains(body, "not the leader") {
		t.Errorf("POST to a follower = %d %q, want 409 saying it does not lead", code, body)
	}
	if code, body := do(t, h, http.MethodGet, "/v1/checkpoints", ""); code != http.StatusOK ||
		!strings.Contains(body, `"term": 3`) {
		t.Errorf("GET /v1/checkpoints = %d %q", code, body)
	}
}
