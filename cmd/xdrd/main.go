// Command xdrd is the cross-datacenter replication daemon: run a region,
// validate a topology, run the demo, and ask a daemon for its status.
package main

import (
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

const usage = `usage: xdrd <command> [flags]

commands:
  run       --topology FILE --region NAME [--data-dir DIR] [--admin ADDR]
            [--raft-bind ADDR] [--raft-timeout D] [--checkpoint-interval D]
            [--raft-tls-cert FILE --raft-tls-key FILE --raft-tls-ca FILE]
  validate  FILE
  demo      [--regions N] [--duration D] [--rate R] [--json] [--serve] [--store embedded|redis] [--ha]
  bench     [--store URL] [--records N] [--size BYTES] [--rate R] [--outage D] [--json]
            [--cpuprofile FILE] [--memprofile FILE] [--trace FILE] [--windows FILE]
  status    [--admin ADDR]
  conflicts --topology FILE --region NAME [--namespace N] [--since D] [--json] [--nats URL]
  pause     --source REGION [--admin ADDR]   stop applying a link at its destination
  resume    --source REGION [--admin ADDR]
  version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command and returns the process's exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runDaemon(rest, stdout, stderr)
	case "validate":
		return validate(rest, stdout, stderr)
	case "demo":
		return demoCmd(rest, stdout, stderr)
	case "status":
		return status(rest, stdout, stderr)
	case "bench":
		return benchCmd(rest, stdout, stderr)
	case "conflicts":
		return conflictsCmd(rest, stdout, stderr)
	case "pause", "resume":
		return pauseCmd(rest, stdout, stderr, cmd)
	case "version":
		return printVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "xdrd: unknown command %q\n%s", cmd, usage)
	return 2
}

// newLogger logs JSON lines at level to w: lowercase messages and
// kebab-case keys come from the callers.
func newLogger(w io.Writer, level zapcore.Level) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "time"
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(w), level)
	return zap.New(core)
}
