package lag

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// alertmanagerBin is where Debian's prometheus-alertmanager package puts
// the binary. CI installs it; without it the test that needs it skips.
const alertmanagerBin = "/usr/bin/prometheus-alertmanager"

// amConfig routes every alert to a receiver that sends nothing.
const amConfig = `route:
  receiver: nowhere
receivers:
  - name: nowhere
`

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startAlertmanager runs a real Alertmanager without clustering on a free
// loopback port until the test ends and returns its base URL once ready.
func startAlertmanager(t *testing.T, client *http.Client) string {
	t.Helper()
	if _, err := os.Stat(alertmanagerBin); err != nil {
		t.Skipf("%s not installed (apt-get install prometheus-alertmanager)", alertmanagerBin)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(config, []byte(amConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	cmd := exec.Command(alertmanagerBin, "--config.file="+config,
		"--storage.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr,
		"--cluster.listen-address=")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start alertmanager: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		exited := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(exited)
		}()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			logged, _ := os.ReadFile(out.Name())
			t.Logf("alertmanager output:\n%s", logged)
		}
	})

	base := "http://" + addr
	waitFor(t, 20*time.Second, func() (bool, string) {
		resp, err := client.Get(base + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, "ready: " + resp.Status
	})
	return base
}

// gettableAlert is the part of an element of GET /api/v2/alerts the test
// reads.
type gettableAlert struct {
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt"`
	EndsAt   time.Time         `json:"endsAt"`
	Status   struct {
		State string `json:"state"`
	} `json:"status"`
}

// lagAlerts returns the XdrdReplicationLag alerts Alertmanager lists.
func lagAlerts(client *http.Client, base string) ([]gettableAlert, error) {
	resp, err := client.Get(base + "/api/v2/alerts?filter=alertname%3D" + AlertName)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get alerts: %s", resp.Status)
	}
	var alerts []gettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		return nil, fmt.Errorf("decode alerts: %w", err)
	}
	return alerts, nil
}

func TestPushToRealAlertmanager(t *testing.T) {
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	base := startAlertmanager(t, client)

	am := newPusher(t, base, nil)
	defer am.Close()
	// The clock runs a minute behind so that the resolution's endsAt is
	// already past when Alertmanager receives it.
	r := newRig(am, time.Now().Add(-time.Minute).Truncate(time.Millisecond))

	r.Observe(profiles, 12*time.Second, "source nats unreachable", th)
	r.clock.Advance(5 * time.Second)
	r.Observe(profiles, 17*time.Second, "source nats unreachable", th)
	firedAt := r.clock.Now()

	labels := map[string]string{"alertname": AlertName, "severity": "warning",
		"namespace": "profiles", "source": "east", "destination": "west", "region": "west"}
	waitFor(t, 20*time.Second, func() (bool, string) {
		alerts, err := lagAlerts(client, base)
		if err != nil {
			return false, err.Error()
		}
		if len(alerts) != 1 {
			return false, fmt.Sprintf("alerts %+v", alerts)
		}
		a := alerts[0]
		if fmt.Sprint(a.Labels) != fmt.Sprint(labels) || !a.StartsAt.Equal(firedAt) {
			t.Fatalf("alert = %+v, want labels %v starting %s", a, labels, firedAt)
		}
		return a.Status.State == "active", "state " + a.Status.State
	})

	r.clock.Advance(time.Second)
	r.Observe(profiles, 2*time.Second, "", th)

	// Alertmanager (0.25, as Debian ships it) does not list resolved alerts
	// with a past endsAt: GET /api/v2/alerts leaves them out altogether.
	waitFor(t, 20*time.Second, func() (bool, string) {
		alerts, err := lagAlerts(client, base)
		if err != nil {
			return false, err.Error()
		}
		return len(alerts) == 0, fmt.Sprintf("still listed: %+v", alerts)
	})

	if failed := metricValue(t, r.reg, "xdrd_alertmanager_push_failures_total",
		map[string]string{"reason": "status"}); failed != 0 {
		t.Fatalf("%v pushes refused", failed)
	}
}
