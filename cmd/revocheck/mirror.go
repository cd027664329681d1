package main

import (
	"fmt"
	"io"
)

// cmdMirror dispatches `revocheck mirror mozilla` (mirror_mozilla.go) and
// `revocheck mirror crl` (mirror_crl.go) and `revocheck mirror ctlogs`
// (mirror_ctlogs.go).
func cmdMirror(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "mozilla":
			return cmdMirrorMozilla(args[1:], stdout, stderr)
		case "crl":
			return cmdMirrorCRL(args[1:], stdout, stderr)
		case "ctlogs":
			return cmdMirrorCTLogs(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintln(stderr, "usage: revocheck mirror mozilla [flags]   mirror Mozilla's CRLite data (Remote Settings)")
	fmt.Fprintln(stderr, "       revocheck mirror crl [flags]       compile CRLs into exact revocation sets")
	fmt.Fprintln(stderr, "       revocheck mirror ctlogs --out DIR LIST.json   the CT log list for policy.ct")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return nil
	}
	return fmt.Errorf("mirror: expected mozilla, crl or ctlogs")
}
