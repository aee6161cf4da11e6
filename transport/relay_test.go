package transport

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestRelayRequestReply sends requests between two members of a region
// through a real server, and checks that another region's member with the
// same ID does not answer.
func TestRelayRequestReply(t *testing.T) {
	srv, url, err := StartStandalone(t.TempDir(), testLog())
	if err != nil {
		t.Fatalf("start standalone: %v", err)
	}
	t.Cleanup(srv.Shutdown)
	a := NewRelay(connect(t, url, "a"), "eu-west")
	b := NewRelay(connect(t, url, "b"), "eu-west")
	other := NewRelay(connect(t, url, "c"), "us-east")

	stop, err := a.Serve("10.0.0.1:7946", func(data []byte) []byte {
		return append([]byte("a got "), data...)
	})
	if err != nil {
		t.Fatal(err)
	}
	stopOther, err := other.Serve("10.0.0.2:7946", func([]byte) []byte { return []byte("wrong") })
	if err != nil {
		t.Fatal(err)
	}
	defer stopOther()

	got, err := b.Request(testCtx(t), "10.0.0.1:7946", []byte("cursors"))
	if err != nil || !bytes.Equal(got, []byte("a got cursors")) {
		t.Fatalf("request = %q, %v; want the member's answer", got, err)
	}
	if _, err := b.Request(testCtx(t), "10.0.0.2:7946", nil); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("request to another region's member = %v, want no responders", err)
	}
	stop()
	if _, err := b.Request(testCtx(t), "10.0.0.1:7946", nil); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("request after stop = %v, want no responders", err)
	}
}
