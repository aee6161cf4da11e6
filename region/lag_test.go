package region_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xdrd/xdrd/admin"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/region"
)

// TestLagRisesAndAlertsWhileLinkPaused cuts the link eu-west → us-east
// (namespace sessions, the one with a lag alert)
// with nothing being written: lag rises about a second per second, the
// alert goes pending, then warning, then critical, and once the link is
// resumed lag falls back to about zero and the alert resolves.
func TestLagRisesAndAlertsWhileLinkPaused(t *testing.T) {
	c := newCluster(t, []string{"eu-west", "us-east"}, `    lag-alert: {warning: 2s, critical: 4s, for: 1s}
`)
	c.run()
	east := c.daemon("us-east")
	srv, err := admin.Serve("127.0.0.1:0", admin.Handler(east.Admin(), east.Registry(), c.log), c.log)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := "http://" + srv.Addr()

	link := func() region.Link {
		t.Helper()
		var s region.Status
		getJSON(t, base+"/v1/status", &s)
		for _, l := range s.Links {
			if l.Source == "eu-west" && l.Namespace == "sessions" {
				return l
			}
		}
		t.Fatalf("no link eu-west -> us-east in %+v", s)
		return region.Link{}
	}
	waitLink := func(what string, ok func(region.Link) bool) region.Link {
		t.Helper()
		var l region.Link
		eventually(t, 20*time.Second, what, func() string {
			if l = link(); !ok(l) {
				return fmt.Sprintf("%+v", l)
			}
			return ""
		})
		return l
	}

	waitLink("a current link", func(l region.Link) bool {
		return l.LagSeconds < 0.5 && l.Alert == "inactive"
	})
	post(t, base+"/v1/links/eu-west/pause")

	first := waitLink("lag to rise", func(l region.Link) bool { return l.LagSeconds >= 1 })
	began := time.Now()
	waitLink("pending warning", func(l region.Link) bool { return l.Alert == "pending warning" })
	waitLink("firing warning", func(l region.Link) bool { return l.Alert == "firing warning" })
	last := waitLink("firing critical", func(l region.Link) bool {
		return l.Alert == "firing critical"
	})
	rate := (last.LagSeconds - first.LagSeconds) / time.Since(began).Seconds()
	if rate < 0.5 || rate > 1.5 {
		t.Errorf("lag rose %.2f seconds per second while the link was paused", rate)
	}
	if last.Cause != "link paused" || !last.Paused {
		t.Errorf("cause %q paused %v, want the pause named", last.Cause, last.Paused)
	}
	if v := metric(t, base, `xdrd_lag_alert_firing{`, `severity="critical"`); v != 1 {
		t.Errorf("xdrd_lag_alert_firing critical = %v while firing", v)
	}

	// What eu-west writes now waits for us-east: its backlog counts it.
	for i := range 50 {
		bins, _ := record.EncodeBins(map[string]any{"i": i})
		_, err := c.daemon("eu-west").Store().Put(context.Background(), "sessions", "s",
			fmt.Sprintf("k%d", i), bins, 0)
		if err != nil {
			t.Fatal(err)
		}
	}
	backlog := func() float64 {
		return c.counter("eu-west", "xdrd_backlog_records",
			map[string]string{"namespace": "sessions", "destination": "us-east"})
	}
	eventually(t, 10*time.Second, "eu-west's backlog to us-east", func() string {
		if b := backlog(); b != 50 {
			return fmt.Sprintf("backlog %v, want 50", b)
		}
		for _, o := range c.daemon("eu-west").Status().Outgoing {
			if o.Namespace == "sessions" && o.Destination == "us-east" && o.BacklogRecords != 50 {
				return fmt.Sprintf("/v1/status backlog %d, want 50", o.BacklogRecords)
			}
		}
		return ""
	})

	post(t, base+"/v1/links/eu-west/resume")
	eventually(t, 10*time.Second, "the backlog to drain", func() string {
		if b := backlog(); b != 0 {
			return fmt.Sprintf("backlog %v", b)
		}
		return ""
	})
	waitLink("lag back to about zero and the alert resolved", func(l region.Link) bool {
		return l.LagSeconds < 0.5 && (l.Alert == "inactive" || strings.HasPrefix(l.Alert, "resolved"))
	})
	if v := metric(t, base, `xdrd_lag_alert_firing{`, `severity="critical"`); v != 0 {
		t.Errorf("xdrd_lag_alert_firing critical = %v after recovery", v)
	}
	if v := metric(t, base, `xdrd_replication_lag_seconds{`, `namespace="sessions"`); v >= 0.5 {
		t.Errorf("xdrd_replication_lag_seconds = %v after recovery", v)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func post(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}

// metric reads the value of the first exposition line that starts with
// prefix and contains label from /metrics.
func metric(t *testing.T, base, prefix, label string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, label) {
			var v float64
			if _, err := fmt.Sscanf(line[strings.LastIndex(line, " ")+1:], "%g", &v); err != nil {
				t.Fatalf("parse %q: %v", line, err)
			}
			return v
		}
	}
	t.Fatalf("no %s...%s in /metrics", prefix, label)
	return 0
}
