// Package integration holds the tests that drive real clients (curl, wget,
// openssl, gnutls-cli, tstclnt, vfychain, python3) and C programs against
// TLS servers on 127.0.0.1, using the artifacts under build/ (make all
// test-drivers).
//
// A test whose client, library or tool is missing stops through
// harness.Require / harness.Missing, naming the Debian package to install:
// a skip in a plain `go test`, a failure under `make test`, which sets
// REVOCHECK_REQUIRE_ALL=1.
package integration
