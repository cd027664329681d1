// Package paths holds the directories decided when revocheck is built. The
// Makefile sets them from its GNU directory variables (-ldflags -X), so an
// installed program knows where `make install` put its libraries instead of
// guessing. They are empty in a plain `go build` or `go test`; callers then
// fall back to searching (the build tree, then the usual prefixes).
package paths

// LibDir is $(libdir): librevocheck.so.0, the GnuTLS hook, pkcs11/.
var LibDir = ""
