package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/revocheck/revocheck/core/crlcompile"
)

const mirrorCRLUsage = `usage: revocheck mirror crl --ca FILE [--ca FILE...] --out DIR [options] CRL...

Compiles CRLs into an exact, serial-keyed revocation set that revocheck
readers consult alongside the CRLite filters, and that lets the NSS trust
module answer without SCTs. Each CRL is a file or an http(s) URL, DER or PEM.
Its signature is verified against its issuing CA certificate from --ca
(PEM bundles; matched by name and key identifier).

Writes DIR/crlsets/NAME-HASH.crlset and DIR/crlsets/manifest.json (the upki
manifest shape, kept apart from the clubcard manifest). Point DIR at a mirror
tree to publish, or at a cache directory to use directly.

options:
`

// cmdMirrorCRL is `revocheck mirror crl`.
func cmdMirrorCRL(args []string, stdout, stderr io.Writer) error {
	fs := newFlagsText("mirror crl", mirrorCRLUsage, stderr)
	var cas multiFlag
	fs.Var(&cas, "ca", "issuing CA certificate(s), PEM or DER `FILE` (repeatable)")
	out := fs.String("out", "", "output `DIR` (mirror tree or cache directory)")
	name := fs.String("name", "crls", "base `NAME` of the set file")
	strict := fs.Bool("strict", false, "fail on a CRL past its nextUpdate instead of warning")
	timeout := fs.Duration("timeout", 60*time.Second, "per-URL download timeout")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || len(cas) == 0 || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("mirror crl: --out, at least one --ca and at least one CRL are required")
	}
	opts := crlcompile.Options{OutDir: *out, Name: *name, Strict: *strict, Warn: stderr}
	for _, f := range cas {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("mirror crl: %w", err)
		}
		certs, err := crlcompile.ParseCerts(data)
		if err != nil {
			return fmt.Errorf("mirror crl: %s: %w", f, err)
		}
		opts.CAs = append(opts.CAs, certs...)
	}
	client := &http.Client{Timeout: *timeout}
	for _, src := range fs.Args() {
		data, err := crlcompile.ReadSource(client, src)
		if err != nil {
			return fmt.Errorf("mirror crl: %s: %w", src, err)
		}
		opts.CRLs = append(opts.CRLs, crlcompile.Source{Name: src, Data: data})
	}
	start := time.Now()
	res, err := crlcompile.Compile(&opts)
	if err != nil {
		return err
	}
	if !*quiet {
		per := 0.0
		if res.Entries > 0 {
			per = float64(res.Size) / float64(res.Entries)
		}
		fmt.Fprintf(stdout, "wrote %s: %d issuers, %d revoked entries, %d bytes (%.2f bytes/entry) in %s\n",
			res.File, res.Issuers, res.Entries, res.Size, per, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
