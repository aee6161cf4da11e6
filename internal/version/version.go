// Package version tells which build of xdrd is running.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is the release, set at build time with
// -ldflags "-X github.com/xdrd/xdrd/internal/version.Version=v1.2.3".
var Version = "dev"

// Commit is the VCS revision the binary was built from, or "unknown".
func Commit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return "unknown"
}

// Go is the Go version the binary was built with.
func Go() string {
	return runtime.Version()
}
