package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/engine"
)

// configFlags are the flags every command that reads the configuration takes.
type configFlags struct {
	path     string
	cacheDir string
	sets     multiFlag
	warn     io.Writer // stderr: problems of the configuration files
	// showsProblems: the command prints configuration problems in its own
	// output (status, config), so load does not warn about them.
	showsProblems bool
}

func (c *configFlags) register(fs *flag.FlagSet) {
	c.warn = fs.Output()
	fs.StringVar(&c.path, "config", "", "configuration file (default: $REVOCHECK_CONFIG, /etc/revocheck/config.toml, $XDG_CONFIG_HOME/revocheck/config.toml)")
	fs.StringVar(&c.cacheDir, "cache-dir", "", "revocation cache directory (overrides the configuration and $REVOCHECK_CACHE_DIR)")
	fs.Var(&c.sets, "set", "set a configuration key for this run, e.g. --set policy.not-covered=deny (repeatable)")
}

// load reads the configuration as the adapters do: a problem in a config
// file costs only the settings it touches (they keep their defaults), and
// is said on stderr; --set and --cache-dir, typed now, must be right.
func (c *configFlags) load() (*config.Config, error) {
	cfg, err := config.Load(c.path)
	var problems *config.Error
	if err != nil && !errors.As(err, &problems) {
		return nil, err
	}
	if problems != nil && !c.showsProblems && c.warn != nil {
		for _, p := range problems.Problems {
			fmt.Fprintf(c.warn, "revocheck: warning: %s (that setting keeps its default)\n", p)
		}
	}
	for _, s := range c.sets {
		if err := cfg.ApplyOverrides(s, "--set"); err != nil {
			return nil, err
		}
	}
	if c.cacheDir != "" {
		if err := cfg.Set("cache-dir", c.cacheDir, "--cache-dir"); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

func (c *configFlags) checker() (*engine.Checker, error) {
	cfg, err := c.load()
	if err != nil {
		return nil, err
	}
	return engine.New(cfg), nil
}

// readCerts decodes every certificate in data: PEM blocks of type
// CERTIFICATE, or a single DER certificate.
func readCerts(data []byte, name string) ([][]byte, error) {
	var out [][]byte
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			out = append(out, b.Bytes)
		}
	}
	if len(out) == 0 && len(data) > 0 && data[0] == 0x30 {
		out = append(out, data)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no certificate found (expected PEM or DER)", name)
	}
	return out, nil
}

// findIssuer returns the certificate among cands that issued leaf: its
// subject matches the leaf's issuer name and its key verifies the leaf's
// signature.
func findIssuer(leaf []byte, cands [][]byte) ([]byte, error) {
	lc, err := x509.ParseCertificate(leaf)
	if err != nil {
		return nil, fmt.Errorf("end-entity certificate: %w", err)
	}
	var sigErr error
	for _, c := range cands {
		ic, err := x509.ParseCertificate(c)
		if err != nil || string(ic.RawSubject) != string(lc.RawIssuer) {
			continue
		}
		if err := lc.CheckSignatureFrom(ic); err != nil {
			sigErr = err
			continue
		}
		return c, nil
	}
	if sigErr != nil {
		return nil, fmt.Errorf("the certificate named as issuer does not verify the end-entity signature: %w", sigErr)
	}
	return nil, errors.New("issuer of the end-entity certificate not found among the given certificates (give the chain: end-entity first, then its issuer)")
}

func readFileOrStdin(path string) ([]byte, error) {
	if path == "-" {
		return readAllLimited(os.Stdin)
	}
	return os.ReadFile(path)
}

func readAllLimited(f *os.File) ([]byte, error) {
	const max = 16 << 20
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && len(b) > max {
		err = errors.New("stdin: more than 16 MiB of input")
	}
	return b, err
}
