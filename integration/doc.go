// Package integration holds the tests that drive real clients (curl, wget,
// openssl, gnutls-cli, tstclnt, vfychain, python3) and C programs against
// TLS servers on 127.0.0.1, using the artifacts under build/ (make all).
package integration
