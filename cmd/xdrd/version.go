package main

import (
	"fmt"
	"io"

	"github.com/xdrd/xdrd/internal/version"
)

func printVersion(stdout io.Writer) int {
	fmt.Fprintf(stdout, "xdrd %s commit %s %s\n", version.Version, version.Commit(), version.Go())
	return 0
}
