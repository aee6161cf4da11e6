package checkpoint

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/internal/lograte"
)

// newRaftLogger returns an hclog logger for raft that passes only warnings
// and errors on to log, so that raft's chatter stays out of the daemon's
// output.
func newRaftLogger(log *zap.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "raft",
		Level:      hclog.Warn,
		Output:     &zapWriter{log: log.Named("raft"), limits: make(map[string]*lograte.Limiter)},
		JSONFormat: true,
	})
}

// raftLogEvery bounds how often one raft message is logged: raft repeats
// its errors several times a second while a member is down.
const raftLogEvery = 10 * time.Second

// zapWriter turns hclog's JSON lines into zap entries, each message at
// most once per raftLogEvery with the count of those held back.
type zapWriter struct {
	log *zap.Logger

	mu     sync.Mutex
	limits map[string]*lograte.Limiter // by message
}

// Write implements io.Writer; it never fails.
func (w *zapWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSpace(p), []byte("\n")) {
		if len(line) > 0 {
			w.writeLine(line)
		}
	}
	return len(p), nil
}

// writeLine logs one hclog record, with its fields as kebab-case keys.
func (w *zapWriter) writeLine(line []byte) {
	var rec map[string]any
	if err := json.Unmarshal(line, &rec); err != nil {
		w.log.Warn(string(line))
		return
	}

	msg, _ := rec["@message"].(string)
	ok, held := w.allow(msg)
	if !ok {
		return
	}
	fields := make([]zap.Field, 0, len(rec)+1)
	if held > 0 {
		fields = append(fields, zap.Int("suppressed", held))
	}
	for k, v := range rec {
		if !strings.HasPrefix(k, "@") {
			fields = append(fields, zap.Any(kebabKey(k), v))
		}
	}
	slices.SortFunc(fields, func(a, b zap.Field) int { return strings.Compare(a.Key, b.Key) })

	if level, _ := rec["@level"].(string); level == "error" {
		w.log.Error(msg, fields...)
		return
	}
	w.log.Warn(msg, fields...)
}

// allow rate-limits one message. Raft's messages are a fixed set, so the
// map stays small.
func (w *zapWriter) allow(msg string) (bool, int) {
	w.mu.Lock()
	l, ok := w.limits[msg]
	if !ok {
		l = lograte.New(raftLogEvery)
		w.limits[msg] = l
	}
	w.mu.Unlock()
	return l.Allow(time.Now())
}

// kebabKey rewrites keys such as "backoff time" or "last_index".
func kebabKey(k string) string {
	return strings.ToLower(strings.NewReplacer(" ", "-", "_", "-").Replace(k))
}
