package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap/zapcore"

	"github.com/xdrd/xdrd/bench"
)

// benchCmd measures one link end to end and its raw baselines.
func benchCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.Options
	fs.StringVar(&o.Store, "store", "memory://", "store of both regions: memory://, embedded, "+
		"or redis://host:port[/db], which puts the source in database db (default 0), "+
		"the destination in db+1 and the raw baseline in db+2, and empties all three "+
		"with FLUSHDB first")
	fs.IntVar(&o.Records, "records", 200000, "records to replicate (ignored with --outage)")
	fs.IntVar(&o.Size, "size", 300, "bytes of bins per record")
	fs.IntVar(&o.Rate, "rate", 0, "records per second to write (default: as fast as possible)")
	fs.DurationVar(&o.Outage, "outage", 0, "measure a backlog: pause the link, write at --rate "+
		"for this long (rate × outage records), sampling RSS, then resume and time the "+
		"catch-up (default 0: off; measure it with --store embedded)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the timed phase (the "+
		"replication window, or the catch-up after --outage) to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile to this file at the end "+
		"of the outage, or without one once every record is applied")
	traceFile := fs.String("trace", "", "write an execution trace of the timed phase to "+
		"this file (read it with go tool trace)")
	windows := fs.String("windows", "", "write the replication latency of every 100 ms of "+
		"the timed phase to this file as CSV (start_s,records,p50_ms,p99_ms,max_ms); "+
		"not with --outage")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "xdrd bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if o.Outage < 0 {
		fmt.Fprintln(stderr, "xdrd bench: --outage must not be negative")
		return 2
	}
	if o.Outage > 0 && *windows != "" {
		fmt.Fprintln(stderr, "xdrd bench: --windows is for runs without --outage, which "+
			"measures a backlog, not latency")
		return 2
	}
	if o.Outage > 0 && o.Rate <= 0 {
		fmt.Fprintln(stderr, "xdrd bench: --outage needs --rate R > 0: the backlog is "+
			"written at R records a second while the link is paused")
		return 2
	}
	var files outputs
	for _, out := range []struct {
		path string
		to   *io.Writer
	}{{*memProfile, &o.MemProfile}, {*profile, &o.CPUProfile}, {*traceFile, &o.Trace},
		{*windows, &o.Windows}} {
		if err := files.create(out.path, out.to); err != nil {
			_ = files.close()
			fmt.Fprintf(stderr, "xdrd bench: %v\n", err)
			return 1
		}
	}
	o.Logger = newLogger(stderr, zapcore.WarnLevel)
	o.Progress = stderr

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := bench.Run(ctx, o)
	if cerr := files.close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "xdrd bench: %v\n", err)
		return 1
	}
	if *asJSON {
		line, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(line))
		return 0
	}
	fmt.Fprint(stdout, res.String())
	return 0
}

// outputs are the files that --memprofile, --cpuprofile, --trace and
// --windows name.
type outputs []*os.File

// create makes the file at path, when path is set, and points *to at it.
func (o *outputs) create(path string, to *io.Writer) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	*o = append(*o, f)
	*to = f
	return nil
}

// close closes every file and returns the first error, so that a profile
// cut short by a full disk says so.
func (o outputs) close() error {
	var first error
	for _, f := range o {
		if err := f.Close(); err != nil && first == nil {
			first = fmt.Errorf("close %s: %w", f.Name(), err)
		}
	}
	return first
}
