package harness

import (
	"io"
	"log"
)

// quietLog drops the TLS servers' handshake-failure chatter: clients that
// refuse a revoked certificate abort handshakes on purpose.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }
