// Package version holds the suite's version, set at link time from the
// VERSION file by the Makefile (-ldflags -X).
package version

// Version is the revocheck release, e.g. "0.1.0"; "dev" in plain go builds.
var Version = "dev"
