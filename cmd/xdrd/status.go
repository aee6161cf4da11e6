package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xdrd/xdrd/region"
)

// status prints a running daemon's links as a table.
func status(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("admin", "127.0.0.1:7070", "admin HTTP address of the daemon")
	if err := fs.Parse(args); err != nil {
		return 2
	}

	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + *addr + "/v1/status")
	if err != nil {
		fmt.Fprintf(stderr, "xdrd status: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "xdrd status: %s answered %s\n", *addr, resp.Status)
		return 1
	}
	var s region.Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&s); err != nil {
		fmt.Fprintf(stderr, "xdrd status: decode answer: %v\n", err)
		return 1
	}

	fmt.Fprintf(stdout, "region %s, member %s, raft %s (term %d, assignment %d)\n",
		s.Region, s.Raft.ID, s.Raft.Role, s.Raft.Term, s.Raft.Epoch)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if len(s.Raft.Members) > 1 {
		fmt.Fprintln(tw, "MEMBER\tADDRESS\tROLE\tREACHABLE\tSHARDS\tAPPLIES")
		for _, m := range s.Raft.Members {
			applies := strings.Join(m.Applies, ",")
			if applies == "" {
				applies = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%d\t%s\n", m.ID, m.Address, m.Role, m.Reachable,
				m.Shards, applies)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintln(tw, "NAMESPACE\tLINK\tLAG\tCAUSE\tALERT\tAPPLIED\tOLDER\tDUPLICATE\tCONFLICTS")
	for _, l := range s.Links {
		cause := l.Cause
		if cause == "" {
			cause = "-"
		}
		fmt.Fprintf(tw, "%s\t%s -> %s\t%.2fs\t%s\t%s\t%d\t%d\t%d\t%d\n", l.Namespace,
			l.Source, l.Destination, l.LagSeconds, cause, l.Alert,
			l.Applied, l.RejectedOlder, l.Duplicate, l.Conflicts)
	}
	if len(s.Outgoing) > 0 {
		fmt.Fprintln(tw, "\nNAMESPACE\tOUTGOING LINK\tBACKLOG\tSHIPPED")
		for _, o := range s.Outgoing {
			fmt.Fprintf(tw, "%s\t%s -> %s\t%d\t%d\n", o.Namespace, o.Source, o.Destination,
				o.BacklogRecords, o.Shipped)
		}
	}
	_ = tw.Flush()
	return 0
}
