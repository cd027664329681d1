// Command revocheck-testsites starts the test PKI's HTTPS sites on
// 127.0.0.1 with a matching revocation cache, for the demo and for manual
// experiments. It writes DIR/sites.env (shell assignments) and runs until
// interrupted. Never use it outside a test: its keys and CA are throwaway.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/integration/harness"
	"github.com/revocheck/revocheck/integration/testpki"
)

func main() {
	dir := flag.String("dir", "", "directory for the PKI, cache and sites.env (required)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: revocheck-testsites --dir DIR")
		os.Exit(1)
	}
	e, err := harness.Setup(*dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "revocheck-testsites: %v\n", err)
		os.Exit(1)
	}
	defer e.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "ROOT_PEM=%s\nCACHE_DIR=%s\nPKI_DIR=%s\n", e.RootPEM, e.CacheDir, e.PKI.Dir)
	for _, n := range testpki.SiteNames {
		s := e.Sites[n]
		v := strings.ToUpper(strings.ReplaceAll(n, "-", "_"))
		fmt.Fprintf(&b, "SITE_%s_URL=%s\nSITE_%s_PORT=%d\nSITE_%s_CHAIN=%s\n", v, s.URL, v, s.Port, v, s.ChainPEM)
	}
	tmp := filepath.Join(*dir, "sites.env.tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err == nil {
		err = os.Rename(tmp, filepath.Join(*dir, "sites.env"))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "revocheck-testsites: %v\n", err)
		os.Exit(1)
	}
	fmt.Print(b.String())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGINT, unix.SIGTERM)
	<-sig
}
