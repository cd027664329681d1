package main

import (
	"fmt"
	"io"

	"github.com/revocheck/revocheck/core/mirror"
)

// The data pipeline's commands live with their packages; the CLI only
// dispatches to them.

func cmdMirror(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "mozilla":
			return mirror.Main(args[1:], stdout, stderr)
		case "crl":
			return cmdMirrorCRL(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintln(stderr, "usage: revocheck mirror mozilla [flags]   mirror Mozilla's CRLite data (Remote Settings)")
	fmt.Fprintln(stderr, "       revocheck mirror crl [flags]       compile CRLs into exact revocation sets")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return nil
	}
	return fmt.Errorf("mirror: expected mozilla or crl")
}
