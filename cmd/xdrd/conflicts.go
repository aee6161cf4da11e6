package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zapcore"

	"github.com/xdrd/xdrd/conflictlog"
	"github.com/xdrd/xdrd/topology"
	"github.com/xdrd/xdrd/transport"
)

// conflictsTimeFormat prints when a conflict was decided, in UTC.
const conflictsTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// conflictsCmd lists the conflicts that a region's appliers decided, from
// the region's stream XDRD_CONFLICTS, as a table or as JSON lines:
//
//	xdrd conflicts --topology FILE --region NAME [--namespace N] [--since D] [--json]
//
// It exits 1 when NATS or the stream can not be read, or when an entry
// in the stream does not decode; such entries are named on stderr and the
// others are still printed.
func conflictsCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("conflicts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	topoPath := fs.String("topology", "", "topology file (required)")
	name := fs.String("region", "", "region whose conflicts to list (required)")
	natsURL := fs.String("nats", "", "NATS URL of the region (default: its nats in the topology)")
	namespace := fs.String("namespace", "", "list only this namespace's conflicts")
	since := fs.Duration("since", time.Hour, "list conflicts decided this long ago or later")
	asJSON := fs.Bool("json", false, "print one JSON object per conflict")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *topoPath == "" || *name == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "xdrd conflicts: --topology and --region are required, "+
			"and nothing else may follow the flags")
		return 2
	}
	if *since <= 0 {
		fmt.Fprintf(stderr, "xdrd conflicts: --since must be positive, got %s\n", *since)
		return 2
	}

	url, err := regionNATS(*topoPath, *name, *natsURL)
	if err != nil {
		fmt.Fprintf(stderr, "xdrd conflicts: %v\n", err)
		return 1
	}
	conn, err := transport.Connect(url, "xdrd-conflicts", newLogger(stderr, zapcore.WarnLevel))
	if err != nil {
		fmt.Fprintf(stderr, "xdrd conflicts: region %s: %v\n", *name, err)
		return 1
	}
	defer conn.Close()

	p := newConflictPrinter(stdout, *asJSON)
	bad := 0
	read := func(data []byte) error {
		e, err := conflictlog.Decode(data)
		if err != nil {
			bad++
			fmt.Fprintf(stderr, "xdrd conflicts: skipped an entry: %v\n", err)
			return nil
		}
		if *namespace == "" || e.Namespace == *namespace {
			return p.print(e)
		}
		return nil
	}
	from := time.Now().Add(-*since)
	err = conn.ReadConflicts(context.Background(), *name, from, read)
	if ferr := p.flush(); err == nil {
		err = ferr
	}
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		fmt.Fprintf(stderr, "xdrd conflicts: region %s has no stream %s yet: "+
			"its daemon creates it when it starts\n", *name, transport.ConflictStream)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "xdrd conflicts: read %s of region %s: %v\n",
			transport.ConflictStream, *name, err)
		return 1
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "xdrd conflicts: %d entries could not be decoded\n", bad)
		return 1
	}
	return 0
}

// regionNATS returns override, or else the nats URL of region in the
// topology file at path.
func regionNATS(path, region, override string) (string, error) {
	topo, err := topology.Load(path)
	if err != nil {
		return "", err
	}
	r, ok := topo.Region(region)
	if !ok {
		return "", fmt.Errorf("%s: region %q is not in the topology", path, region)
	}
	if override != "" {
		return override, nil
	}
	if r.NATS == "" {
		return "", fmt.Errorf("%s: region %q names no nats URL: give one with --nats",
			path, region)
	}
	return r.NATS, nil
}

// conflictPrinter writes conflicts as table rows or JSON lines.
type conflictPrinter struct {
	out    io.Writer
	table  *tabwriter.Writer // nil for JSON lines
	header bool
}

func newConflictPrinter(w io.Writer, asJSON bool) *conflictPrinter {
	p := &conflictPrinter{out: w}
	if !asJSON {
		p.table = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		p.out = p.table
	}
	return p
}

// print writes one conflict.
func (p *conflictPrinter) print(e conflictlog.Entry) error {
	if p.table == nil {
		data, err := e.Encode()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.out, "%s\n", data)
		return err
	}
	if !p.header {
		p.header = true
		fmt.Fprintln(p.out, "TIME\tNAMESPACE\tSET/KEY\tPOLICY\tWINNER\t"+
			"INCOMING GEN/LUT/ORIGIN\tSTORED GEN/LUT/ORIGIN")
	}
	_, err := fmt.Fprintf(p.out, "%s\t%s\t%s/%s\t%s\t%s\t%s\t%s\n",
		e.Time.UTC().Format(conflictsTimeFormat), e.Namespace, printable(e.Set),
		printable(e.Key), e.Policy, e.Winner, side(e.Incoming), side(e.Stored))
	return err
}

// flush ends the table; a table without rows says so.
func (p *conflictPrinter) flush() error {
	if p.table == nil {
		return nil
	}
	if !p.header {
		fmt.Fprintln(p.out, "no conflicts")
	}
	return p.table.Flush()
}

// side formats one version's metadata as generation/LUT/origin, marking
// a delete.
func side(s conflictlog.Side) string {
	out := fmt.Sprintf("%d/%d/%s", s.Generation, s.LUT, s.Origin)
	if s.Tombstone {
		out += " (delete)"
	}
	return out
}

// printable returns a set or key as it is when it is plain text, and
// quoted when it holds spaces, a slash or anything that a terminal would
// not show as itself: keys are user data.
func printable(s string) string {
	plain := !strings.ContainsRune(s, '/') && !strings.ContainsRune(s, '"')
	for _, r := range s {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) {
			plain = false
			break
		}
	}
	if plain && s != "" {
		return s
	}
	return strconv.QuoteToGraphic(s)
}
