// Package transport is the JetStream side of replication: the embedded
// servers of the demo and the tests, the names of streams, subjects and
// consumers, and a client that ships frames into a region's stream and
// reads other regions' streams through durable pull consumers.
//
// Each region's streams live in the region's own JetStream domain, named
// after the region: XDRD_<SOURCE> for the frames it ships and XDRD_DLQ
// for the frames its appliers reject. Nothing a region needs to take in
// frames depends on any other region. docs/transport.md explains the
// layout and what was observed with real servers.
package transport

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Names and subjects that the rest of xdrd and its operators rely on.
const (
	// StreamPrefix starts every source stream's name: XDRD_<SOURCE>.
	StreamPrefix = "XDRD_"
	// SubjectRoot is the first token of every replication subject.
	SubjectRoot = "xdrd"
	// ConsumerPrefix starts every destination's consumer name: to-<dest>.
	ConsumerPrefix = "to-"
	// DLQStream is the dead-letter stream; each region has its own, in
	// its own JetStream domain.
	DLQStream = "XDRD_DLQ"
	// dlqToken is the second subject token of dead letters; a region can
	// not be named after it.
	dlqToken = "dlq"
)

// Headers put on every dead letter, naming where it came from and why.
const (
	// HeaderDLQSubject holds the subject the frame was published on.
	HeaderDLQSubject = "Xdrd-Dlq-Subject"
	// HeaderDLQStream holds the stream the frame was read from.
	HeaderDLQStream = "Xdrd-Dlq-Stream"
	// HeaderDLQSequence holds the frame's sequence in that stream.
	HeaderDLQSequence = "Xdrd-Dlq-Sequence"
	// HeaderDLQConsumer holds the consumer that delivered the frame.
	HeaderDLQConsumer = "Xdrd-Dlq-Consumer"
	// HeaderDLQDelivered holds how many times the frame was delivered.
	HeaderDLQDelivered = "Xdrd-Dlq-Delivered"
	// HeaderDLQReason holds why the applier rejected the frame.
	HeaderDLQReason = "Xdrd-Dlq-Reason"
	// HeaderDLQMsgID holds the frame's original Nats-Msg-Id, if any.
	HeaderDLQMsgID = "Xdrd-Dlq-Msg-Id"
)

// ErrBadName is wrapped by every error about a malformed region,
// namespace, reason or subject.
var ErrBadName = errors.New("bad name")

// StreamName is the name of source region's stream: XDRD_ and the region
// in upper case. Region names that differ only in case share a stream, so
// the topology must not hold two of them.
func StreamName(source string) string {
	return StreamPrefix + strings.ToUpper(source)
}

// Subject is the subject that carries source's frames of namespace and
// shard: xdrd.<source>.<namespace>.<shard>.
func Subject(source, namespace string, shard int) string {
	return SubjectRoot + "." + source + "." + namespace + "." + strconv.Itoa(shard)
}

// ParseSubject splits a subject made by Subject. It is strict: exactly
// four tokens, the root xdrd, a valid source region and namespace, and a
// shard written as a non-negative decimal without sign or leading zeros.
func ParseSubject(s string) (source, namespace string, shard int, err error) {
	tokens := strings.Split(s, ".")
	if len(tokens) != 4 || tokens[0] != SubjectRoot {
		return "", "", 0, fmt.Errorf("parse subject %q: want %s.<source>.<namespace>.<shard>: %w",
			s, SubjectRoot, ErrBadName)
	}
	if err := CheckRegion(tokens[1]); err != nil {
		return "", "", 0, fmt.Errorf("parse subject %q: %w", s, err)
	}
	if err := checkToken("namespace", tokens[2]); err != nil {
		return "", "", 0, fmt.Errorf("parse subject %q: %w", s, err)
	}
	shard, err = strconv.Atoi(tokens[3])
	if err != nil || shard < 0 || strconv.Itoa(shard) != tokens[3] {
		return "", "", 0, fmt.Errorf("parse subject %q: shard %q is not a canonical number: %w",
			s, tokens[3], ErrBadName)
	}
	return tokens[1], tokens[2], shard, nil
}

// ConsumerName is the durable consumer through which region dest reads a
// source stream: to-<dest>.
func ConsumerName(dest string) string {
	return ConsumerPrefix + dest
}

// MsgID is the Nats-Msg-Id of the frame that holds source's changes of
// namespace and shard from cursor first to last. It depends on nothing
// else, so a frame shipped again after a crash has the same ID and the
// stream drops it as a duplicate inside the duplicate window.
func MsgID(source, namespace string, shard int, first, last uint64) string {
	return fmt.Sprintf("%s.%s.%d.%d-%d", source, namespace, shard, first, last)
}

// dlqSubject is the subject of a dead letter that dest's applier
// rejected for reason: xdrd.dlq.<dest>.<reason>.
func dlqSubject(dest, reason string) string {
	return SubjectRoot + "." + dlqToken + "." + dest + "." + reason
}

// CheckRegion reports whether name can be a region in subjects and stream
// names: a valid subject token, and neither "dlq" nor "conflicts", which
// the dead letters' and the conflict log's subjects use.
func CheckRegion(name string) error {
	if err := checkToken("region", name); err != nil {
		return err
	}
	if strings.EqualFold(name, dlqToken) {
		return fmt.Errorf("region %q is reserved for dead letters: %w", name, ErrBadName)
	}
	if strings.EqualFold(name, conflictsToken) {
		return fmt.Errorf("region %q is reserved for the conflict log: %w", name, ErrBadName)
	}
	return nil
}

// checkToken reports whether s is usable as one subject token and inside
// a stream name: not empty, printable ASCII, and none of the characters
// that NATS gives a meaning to.
func checkToken(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty: %w", what, ErrBadName)
	}
	for _, c := range s {
		if c <= ' ' || c > '~' || strings.ContainsRune(".*>/\\", c) {
			return fmt.Errorf("%s %q has character %q: %w", what, s, c, ErrBadName)
		}
	}
	return nil
}
