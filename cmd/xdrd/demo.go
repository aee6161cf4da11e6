package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"go.uber.org/zap/zapcore"

	"github.com/xdrd/xdrd/demo"
)

func demoCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o demo.Options
	asJSON := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	fs.IntVar(&o.Regions, "regions", 3, "number of regions")
	fs.DurationVar(&o.Duration, "duration", 0, "how long to write load (default 10s)")
	fs.IntVar(&o.Rate, "rate", 0, "writes per second into each region (default 2000)")
	fs.StringVar(&o.Store, "store", "embedded", "store of every region: embedded, or redis "+
		"(a redis-server per region, started by the demo; needs redis-server on PATH)")
	ha := fs.Bool("ha", false, "run each region as three daemons, a raft group sharing the "+
		"region's store, and stop the first region's leader halfway through the load")
	fs.BoolVar(&o.Serve, "serve", false,
		"keep running after the load, admin APIs on 127.0.0.1:7070, 7071, ... (with --ha, "+
			"of the first member of each region)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "xdrd demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if o.Regions < 2 || o.Regions > 255 {
		fmt.Fprintln(stderr, "xdrd demo: --regions must be 2-255")
		return 2
	}

	if o.Store != "embedded" && o.Store != "redis" {
		fmt.Fprintf(stderr, "xdrd demo: --store must be embedded or redis, not %q\n", o.Store)
		return 2
	}

	if *ha {
		o.Members = 3
	}
	o.Logger = newLogger(stderr, zapcore.WarnLevel)
	o.Progress = stdout
	if *asJSON {
		o.Progress = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	sum, err := demo.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "xdrd demo: %v\n", err)
		return 1
	}
	if *asJSON {
		line, _ := json.Marshal(sum)
		fmt.Fprintln(stdout, string(line))
	} else {
		fmt.Fprintf(stdout, "regions %d, written %d, applied %d, conflicts %d, "+
			"converged %t in %.2fs, %d records compared, %.0f records/s applied\n",
			sum.Regions, sum.Written, sum.Applied, sum.Conflicts, sum.Converged,
			sum.ConvergenceSeconds, sum.RecordsCompared, sum.RecordsPerSecond)
		for _, d := range sum.Differences {
			fmt.Fprintln(stdout, "  differs:", d)
		}
	}
	if !sum.Converged {
		return 1
	}
	return 0
}
