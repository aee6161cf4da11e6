package region_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xdrd/xdrd/frame"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/transport"
)

// TestBadFramesDeadLettered publishes damaged and mis-addressed frames into
// eu-west's stream and checks that us-east rejects each, with its reason,
// into its XDRD_DLQ, while good writes keep flowing.
func TestBadFramesDeadLettered(t *testing.T) {
	c := newClusterTuned(t, []string{"eu-west", "us-east"}, 64<<10)
	c.run()
	ctx := context.Background()

	good := func(ns string, source record.RegionID, binsSize int) []byte {
		bins, err := record.EncodeBins(map[string]any{"pad": make([]byte, binsSize)})
		if err != nil {
			t.Fatal(err)
		}
		f := frame.Frame{
			Header: frame.Header{Source: source, Namespace: ns, First: 1, Last: 1, Count: 1,
				SentAt: time.Now().UnixNano()},
			Records: []record.Version{{Namespace: ns, Set: "s", Key: "bad",
				Meta: record.Meta{Generation: 1, LUT: 1, Origin: source}, Bins: bins}},
		}
		data, err := frame.Append(nil, &f)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	valid := good("profiles", 1, 10)
	bad := []struct {
		subject string
		data    []byte
		reason  string
	}{
		{"xdrd.eu-west.profiles.0", []byte("not a frame at all"), "malformed"},
		{"xdrd.eu-west.profiles.0", valid[:len(valid)/2], "malformed"},
		{"xdrd.eu-west.profiles.0", good("profiles", 1, 100<<10), "oversized"},
		{"xdrd.eu-west.profiles.0", good("profiles", 2, 10), "source"},
		{"xdrd.eu-west.nope.0", good("nope", 1, 10), "namespace"},
	}

	conn, err := transport.Connect(c.nats.URL("eu-west"), "test", c.log)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i, b := range bad {
		if _, err := conn.Publish(ctx, b.subject, fmt.Sprintf("bad-%d", i), b.data); err != nil {
			t.Fatalf("publish bad frame %d: %v", i, err)
		}
	}

	// Good frames keep flowing past the bad ones.
	bins, _ := record.EncodeBins(map[string]any{"ok": true})
	if _, err := c.daemon("eu-west").Store().Put(ctx, "profiles", "s", "good", bins, 0); err != nil {
		t.Fatal(err)
	}
	snap := c.converge(20 * time.Second)
	if _, ok := snap["profiles/s/good"]; !ok {
		t.Fatal("the good write did not replicate")
	}
	if _, ok := snap["profiles/s/bad"]; ok {
		t.Fatal("a record of a rejected frame was applied")
	}

	want := map[string]float64{"malformed": 2, "oversized": 1, "source": 1, "namespace": 1}
	eventually(t, 10*time.Second, "rejections counted", func() string {
		for reason, n := range want {
			got := c.counter("us-east", "xdrd_frames_rejected_total",
				map[string]string{"reason": reason, "source": "eu-west"})
			if got != n {
				return fmt.Sprintf("reason %s: %v rejected, want %v", reason, got, n)
			}
		}
		return ""
	})

	reasons := deadLetters(t, c.nats.URL("us-east"), "us-east", len(bad))
	for reason, n := range want {
		if float64(reasons[reason]) != n {
			t.Errorf("XDRD_DLQ holds %d dead letters with reason %s, want %v",
				reasons[reason], reason, n)
		}
	}
}

// deadLetters reads n messages of a region's XDRD_DLQ and counts them by
// their reason header.
func deadLetters(t *testing.T, url, region string, n int) map[string]int {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.NewWithDomain(nc, region)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, transport.DLQStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("read %s: %v", transport.DLQStream, err)
	}
	reasons := make(map[string]int)
	for range n {
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("read dead letter: %v (have %v)", err, reasons)
		}
		reasons[msg.Headers().Get(transport.HeaderDLQReason)]++
	}
	return reasons
}
