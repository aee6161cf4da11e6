package transport

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNames(t *testing.T) {
	if got := StreamName("eu-west"); got != "XDRD_EU-WEST" {
		t.Errorf("StreamName = %q", got)
	}
	if got := Subject("eu-west", "installs", 7); got != "xdrd.eu-west.installs.7" {
		t.Errorf("Subject = %q", got)
	}
	if got := ConsumerName("us-east"); got != "to-us-east" {
		t.Errorf("ConsumerName = %q", got)
	}
	if got := dlqSubject("us-east", "oversized"); got != "xdrd.dlq.us-east.oversized" {
		t.Errorf("dlqSubject = %q", got)
	}
}

func TestParseSubjectRoundTrip(t *testing.T) {
	for _, shard := range []int{0, 1, 15, 4095} {
		s := Subject("a", "installs", shard)
		source, ns, got, err := ParseSubject(s)
		if err != nil || source != "a" || ns != "installs" || got != shard {
			t.Errorf("ParseSubject(%q) = %q, %q, %d, %v", s, source, ns, got, err)
		}
	}
}

func TestParseSubjectRejects(t *testing.T) {
	bad := []string{
		"", "xdrd", "xdrd.a.ns", "xdrd.a.ns.1.2", "nats.a.ns.1", "xdrd..ns.1",
		"xdrd.a..1", "xdrd.a.ns.", "xdrd.a.ns.-1", "xdrd.a.ns.+1", "xdrd.a.ns.01",
		"xdrd.a.ns.x", "xdrd.a.ns.1x", "xdrd.*.ns.1", "xdrd.a.>.1", "xdrd.dlq.ns.1",
		"xdrd.a.n s.1", "xdrd.a.ns.99999999999999999999",
	}
	for _, s := range bad {
		if _, _, _, err := ParseSubject(s); !errors.Is(err, ErrBadName) {
			t.Errorf("ParseSubject(%q) error = %v, want ErrBadName", s, err)
		}
	}
}

func TestMsgIDDeterministic(t *testing.T) {
	a := MsgID("a", "ns", 3, 10, 20)
	if a != MsgID("a", "ns", 3, 10, 20) {
		t.Fatal("MsgID differs for the same frame")
	}
	others := []string{
		MsgID("b", "ns", 3, 10, 20), MsgID("a", "nt", 3, 10, 20),
		MsgID("a", "ns", 4, 10, 20), MsgID("a", "ns", 3, 11, 20),
		MsgID("a", "ns", 3, 10, 21), MsgID("a", "ns", 31, 0, 20),
	}
	for _, o := range others {
		if o == a {
			t.Errorf("MsgID %q collides with another frame", o)
		}
	}
}

func TestCheckRegion(t *testing.T) {
	for _, ok := range []string{"a", "eu-west", "us_east_1"} {
		if err := CheckRegion(ok); err != nil {
			t.Errorf("CheckRegion(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "dlq", "DLQ", "eu.west", "a b", "a*", "a>", "a/b", "é"} {
		if err := CheckRegion(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("CheckRegion(%q) = %v, want ErrBadName", bad, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	cfg := DefaultConfig()
	cfg.StreamMaxBytes = 0
	cfg.AckWait = 0
	cfg.MaxDeliver = 2
	cfg.Backoff = []time.Duration{time.Second, time.Second}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("bad config validated")
	}
	for _, field := range []string{"stream-max-bytes", "ack-wait", "max-deliver"} {
		if !strings.Contains(err.Error(), "transport."+field+":") {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
	stepped := DefaultConfig()
	stepped.Backoff = []time.Duration{time.Minute}
	if got := stepped.consumerBackoff(); got[0] != stepped.AckWait {
		t.Errorf("consumer backoff starts with %s, want the ack wait", got[0])
	}
	if got := DefaultConfig().consumerBackoff(); got != nil {
		t.Errorf("default consumer backoff is %v, want none", got)
	}
}
