package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/xdrd/xdrd/topology"
)

// validate checks a topology file: every problem on its own line as
// "<file>: <path>: <message>" and exit 1, or a one-line summary and exit 0.
func validate(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: xdrd validate FILE")
		return 2
	}
	t, err := topology.Load(args[0])
	if err != nil {
		var terr *topology.Error
		if errors.As(err, &terr) {
			fmt.Fprintln(stderr, terr.Error())
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", args[0], err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "%s: valid: %s\n", args[0], t.Summary())
	return 0
}
