package lag

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// request is one POST an httptest Alertmanager received.
type request struct {
	method, path, contentType string
	alerts                    []map[string]any
}

// fakeAlertmanager records every request and answers with status.
func fakeAlertmanager(t *testing.T, status int) (*httptest.Server, chan request) {
	got := make(chan request, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{method: r.Method, path: r.URL.Path,
			contentType: r.Header.Get("Content-Type")}
		if err := json.Unmarshal(body, &req.alerts); err != nil {
			t.Errorf("body %s: %v", body, err)
		}
		got <- req
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func newPusher(t *testing.T, url string, log *zap.Logger) *Alertmanager {
	t.Helper()
	am, err := NewAlertmanager(url, &http.Client{Transport: &http.Transport{}}, log)
	if err != nil {
		t.Fatal(err)
	}
	return am
}

func TestPushPayload(t *testing.T) {
	srv, got := fakeAlertmanager(t, http.StatusOK)
	am := newPusher(t, srv.URL+"/", nil)
	r := newRig(am, epoch)

	r.Observe(profiles, 12*time.Second, "source nats unreachable", th)
	r.clock.Advance(5 * time.Second)
	r.Observe(profiles, 17*time.Second, "source nats unreachable", th) // fires
	r.clock.Advance(59 * time.Second)
	r.Observe(profiles, 18*time.Second, "source nats unreachable", th) // too soon
	r.clock.Advance(time.Second)
	r.Observe(profiles, 19*time.Second, "link paused", th) // resent
	r.clock.Advance(time.Second)
	r.Observe(profiles, 3*time.Second, "", th) // resolved
	r.Forget(profiles)
	am.Close()
	close(got)

	var reqs []request
	for req := range got {
		reqs = append(reqs, req)
	}
	if len(reqs) != 3 {
		t.Fatalf("%d pushes, want fire, resend, resolve: %+v", len(reqs), reqs)
	}
	firedAt := epoch.Add(5 * time.Second).Format(time.RFC3339Nano)
	labels := map[string]any{"alertname": "XdrdReplicationLag", "severity": "warning",
		"namespace": "profiles", "source": "east", "destination": "west", "region": "west"}
	wantDesc := []string{
		"lag 17s (threshold 10s), cause: source nats unreachable",
		"lag 19s (threshold 10s), cause: link paused",
		"lag 3s (threshold 10s), cause: none reported",
	}
	for i, req := range reqs {
		if req.method != http.MethodPost || req.path != "/api/v2/alerts" ||
			req.contentType != "application/json" || len(req.alerts) != 1 {
			t.Fatalf("push %d: %s %s %s with %d alerts", i, req.method, req.path,
				req.contentType, len(req.alerts))
		}
		a := req.alerts[0]
		if !reflect.DeepEqual(a["labels"], labels) {
			t.Errorf("push %d labels = %v", i, a["labels"])
		}
		ann := a["annotations"].(map[string]any)
		if ann["description"] != wantDesc[i] || !strings.Contains(ann["summary"].(string),
			"namespace profiles from east to west") {
			t.Errorf("push %d annotations = %v", i, ann)
		}
		if a["startsAt"] != firedAt {
			t.Errorf("push %d startsAt = %v, want %s", i, a["startsAt"], firedAt)
		}
		ends, resolved := a["endsAt"]
		if resolved != (i == 2) {
			t.Errorf("push %d endsAt = %v", i, ends)
		}
	}
	resolvedAt := epoch.Add(66 * time.Second).Format(time.RFC3339Nano)
	if ends := reqs[2].alerts[0]["endsAt"]; ends != resolvedAt {
		t.Errorf("endsAt = %v, want %s", ends, resolvedAt)
	}
}

func TestPushFailuresCountedAndLogged(t *testing.T) {
	srv, got := fakeAlertmanager(t, http.StatusBadRequest)
	core, logs := observer.New(zapcore.DebugLevel)
	am := newPusher(t, srv.URL, zap.New(core))
	r := newRig(am, epoch)

	for range 3 {
		r.Observe(profiles, time.Minute, "", Thresholds{Warning: time.Second})
		r.Forget(profiles)
	}
	am.Close()
	if len(got) != 6 {
		t.Fatalf("%d pushes, want 6", len(got))
	}
	failed := metricValue(t, r.reg, "xdrd_alertmanager_push_failures_total",
		map[string]string{"reason": "status"})
	if failed != 6 {
		t.Fatalf("push failures = %v, want 6", failed)
	}
	warned := logs.FilterMessage("push lag alert to alertmanager").All()
	if len(warned) != 1 || !strings.Contains(warned[0].ContextMap()["error"].(string), "400") {
		t.Fatalf("want one rate-limited warning naming the status, got %v", warned)
	}
}

func TestFullQueueNeverBlocksAndCloseIsBounded(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	am := newPusher(t, srv.URL, nil)
	am.flush = 50 * time.Millisecond
	r := newRig(am, epoch)
	for range queueSize + 20 {
		r.Observe(profiles, time.Minute, "", Thresholds{Warning: time.Second})
		r.Forget(profiles)
	}

	dropped := metricValue(t, r.reg, "xdrd_alertmanager_push_failures_total",
		map[string]string{"reason": "queue_full"})
	if n := 2*(queueSize+20) - queueSize; dropped < float64(n-1) || dropped > float64(n) {
		t.Fatalf("%v notices dropped, want %d or %d", dropped, n-1, n)
	}
	am.Close()
	am.Close()
	r.Observe(profiles, time.Minute, "", Thresholds{Warning: time.Second}) // dropped quietly
}

func TestNewAlertmanagerRejectsBadURL(t *testing.T) {
	for _, url := range []string{"", "localhost:9093", "ftp://am:9093", "http://", "http://a b"} {
		if am, err := NewAlertmanager(url, nil, nil); err == nil {
			am.Close()
			t.Errorf("NewAlertmanager(%q) accepted", url)
		} else if strings.ToLower(err.Error()) != err.Error() {
			t.Errorf("error not lowercase: %v", err)
		}
	}
}
