package lag

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	profiles = Link{Namespace: "profiles", Source: "east", Destination: "west"}
	th       = Thresholds{Warning: 10 * time.Second, Critical: 30 * time.Second,
		For: 5 * time.Second}
	epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
)

// transition is what one transition log line must say.
type transition struct {
	severity, state string
	lag             float64
	cause           string
}

// transitions returns the transitions logged so far, checking that each is
// a warning about profiles.
func (r *rig) transitions(t *testing.T) []transition {
	t.Helper()
	var out []transition
	for _, e := range r.logs.All() {
		f := e.ContextMap()
		if e.Message != "lag alert changed state" || e.Level.String() != "warn" {
			t.Fatalf("unexpected log %s %q", e.Level, e.Message)
		}
		if f["namespace"] != "profiles" || f["source-region"] != "east" ||
			f["destination-region"] != "west" {
			t.Fatalf("transition does not name the link: %v", f)
		}
		out = append(out, transition{f["severity"].(string), f["state"].(string),
			f["lag-seconds"].(float64), f["cause"].(string)})
	}
	return out
}

// firing returns the xdrd_lag_alert_firing value of profiles at sev.
func (r *rig) firing(t *testing.T, sev Severity) float64 {
	t.Helper()
	return metricValue(t, r.reg, "xdrd_lag_alert_firing", map[string]string{
		"namespace": "profiles", "source": "east", "destination": "west",
		"severity": string(sev)})
}

func (r *rig) wantStates(t *testing.T, warning, critical State) {
	t.Helper()
	want := map[Severity]State{Warning: warning, Critical: critical}
	if got := r.States(profiles); !reflect.DeepEqual(got, want) {
		t.Fatalf("states = %v, want %v", got, want)
	}
	if w, c := r.firing(t, Warning), r.firing(t, Critical); w != b2f(warning == Firing) ||
		c != b2f(critical == Firing) {
		t.Fatalf("xdrd_lag_alert_firing warning=%v critical=%v with states %v", w, c, want)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestEscalationAndResolution(t *testing.T) {
	r := newRig(nil, epoch)
	step := func(advance time.Duration, lag time.Duration, cause string) {
		r.clock.Advance(advance)
		r.Observe(profiles, lag, cause, th)
	}

	step(0, 5*time.Second, "")
	r.wantStates(t, Inactive, Inactive)
	step(time.Second, 12*time.Second, "link paused")
	r.wantStates(t, Pending, Inactive)
	step(4*time.Second, 16*time.Second, "link paused")
	r.wantStates(t, Pending, Inactive)
	step(time.Second, 17*time.Second, "link paused")
	r.wantStates(t, Firing, Inactive)
	step(14*time.Second, 31*time.Second, "source nats unreachable")
	r.wantStates(t, Firing, Pending)
	step(5*time.Second, 36*time.Second, "source nats unreachable")
	r.wantStates(t, Firing, Firing)

	alerts := r.Alerts()
	if len(alerts) != 2 || alerts[0].Severity != Warning || alerts[1].Severity != Critical ||
		!alerts[1].Since.Equal(epoch.Add(25*time.Second)) || alerts[1].Lag != 36*time.Second {
		t.Fatalf("alerts while firing = %+v", alerts)
	}

	step(time.Second, 2*time.Second, "")
	r.wantStates(t, Resolved, Resolved)
	if n := len(r.Alerts()); n != 2 {
		t.Fatalf("%d alerts while resolved, want 2", n)
	}
	step(time.Second, time.Second, "")
	r.wantStates(t, Inactive, Inactive)
	if a := r.Alerts(); len(a) != 0 {
		t.Fatalf("alerts after resolution = %+v", a)
	}

	want := []transition{
		{"warning", "inactive->pending", 12, "link paused"},
		{"warning", "pending->firing", 17, "link paused"},
		{"critical", "inactive->pending", 31, "source nats unreachable"},
		{"critical", "pending->firing", 36, "source nats unreachable"},
		{"warning", "firing->resolved", 2, ""},
		{"critical", "firing->resolved", 2, ""},
		{"warning", "resolved->inactive", 1, ""},
		{"critical", "resolved->inactive", 1, ""},
	}
	if got := r.transitions(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("transitions:\n got %v\nwant %v", got, want)
	}
}

func TestPendingDropsBackWithoutFiring(t *testing.T) {
	r := newRig(nil, epoch)
	r.Observe(profiles, 12*time.Second, "throttled", th)
	r.clock.Advance(4 * time.Second)
	r.Observe(profiles, 14*time.Second, "throttled", th)
	r.wantStates(t, Pending, Inactive)
	r.clock.Advance(time.Second)
	r.Observe(profiles, 9*time.Second, "recovery scan running", th)
	r.wantStates(t, Inactive, Inactive)

	// Back above the threshold, the For period starts again.
	r.clock.Advance(time.Second)
	r.Observe(profiles, 11*time.Second, "", th)
	r.clock.Advance(4 * time.Second)
	r.Observe(profiles, 11*time.Second, "", th)
	r.wantStates(t, Pending, Inactive)

	want := []transition{
		{"warning", "inactive->pending", 12, "throttled"},
		{"warning", "pending->inactive", 9, "recovery scan running"},
		{"warning", "inactive->pending", 11, ""},
	}
	if got := r.transitions(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("transitions:\n got %v\nwant %v", got, want)
	}
}

func TestZeroForFiresAtOnceAndZeroThresholdDisables(t *testing.T) {
	r := newRig(nil, epoch)
	r.Observe(profiles, time.Hour, "frames rejected", Thresholds{Warning: time.Second})
	r.wantStates(t, Firing, Inactive)

	want := []transition{
		{"warning", "inactive->pending", 3600, "frames rejected"},
		{"warning", "pending->firing", 3600, "frames rejected"},
	}
	if got := r.transitions(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("transitions:\n got %v\nwant %v", got, want)
	}
}

func TestForgetResolvesFiringAlert(t *testing.T) {
	r := newRig(nil, epoch)
	r.Observe(profiles, 20*time.Second, "destination store failing", th)
	r.clock.Advance(5 * time.Second)
	r.Observe(profiles, 35*time.Second, "destination store failing", th)
	r.wantStates(t, Firing, Pending)

	r.Forget(profiles)
	r.Forget(profiles)
	if n := seriesCount(t, r.reg, "xdrd_lag_alert_firing"); n != 0 {
		t.Fatalf("%d firing series left after Forget", n)
	}
	if a := r.Alerts(); len(a) != 0 {
		t.Fatalf("alerts after Forget = %+v", a)
	}
	got := r.transitions(t)[3:]
	want := []transition{
		{"warning", "firing->resolved", 35, "link removed from the topology"},
		{"critical", "pending->inactive", 35, "link removed from the topology"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("transitions on Forget:\n got %v\nwant %v", got, want)
	}
}

func TestAlertJSON(t *testing.T) {
	r := newRig(nil, epoch)
	r.Observe(profiles, 1500*time.Millisecond, "link paused", Thresholds{Warning: time.Second,
		For: time.Minute})
	data, err := json.Marshal(r.Alerts())
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"namespace":"profiles","source":"east","destination":"west",` +
		`"severity":"warning","state":"pending","since":"2030-01-02T03:04:05Z",` +
		`"lag_seconds":1.5,"cause":"link paused"}]`
	if string(data) != want {
		t.Fatalf("json:\n got %s\nwant %s", data, want)
	}
}

func TestConcurrentObservers(t *testing.T) {
	r := newRig(nil, epoch)
	var wg sync.WaitGroup
	for i := range 8 {
		link := Link{Namespace: fmt.Sprint("ns", i), Source: "east", Destination: "west"}
		wg.Go(func() {
			for j := range 200 {
				r.clock.Advance(time.Second)
				r.Observe(link, time.Duration(j%40)*time.Second, "", th)
				_ = r.Alerts()
			}
			r.Forget(link)
		})
	}
	wg.Wait()
	for _, e := range r.logs.All() {
		if !strings.Contains(e.ContextMap()["state"].(string), "->") {
			t.Fatalf("malformed transition %v", e.ContextMap())
		}
	}
}
