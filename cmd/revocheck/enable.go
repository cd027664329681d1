package main

// `revocheck enable|disable openssl|gnutls|nss`: the administrator's switch
// that turns revocation checking on for a whole TLS stack, and off again.
//
// Every edit is made on a copy that is renamed over the original (readers
// never see half a file), the original is kept once as FILE.revocheck-backup
// before the first change, and a file whose shape we do not understand is
// left alone with an error saying why. --root prefixes every system path so
// that tests and image builders never touch the running system's /etc.
//
// This file holds the command and the flags; each stack is in
// enable_openssl.go, enable_gnutls.go and enable_nss.go, and the shared
// file helpers in atomicfile.go, elfcheck.go, libdir.go and opensslcnf.go.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const enableUsage = `[flags] openssl|gnutls|nss|all ...

Turns revocheck on system-wide for the named TLS stacks:
  openssl  adds ".include <snippet>" to OpenSSL's openssl.cnf, in a block
           marked "revocheck" (the snippet keeps the default provider active)
  gnutls   adds the GnuTLS hook library to /etc/ld.so.preload
  nss      registers the PKCS#11 trust module in the system NSS database
           /etc/pki/nssdb (created if missing) and/or, with --user, in
           ~/.pki/nssdb
Running it again changes nothing. The first change to a file keeps the
original as FILE.revocheck-backup. "revocheck status" shows the result.`

const disableUsage = `[flags] openssl|gnutls|nss|all ...

Undoes "revocheck enable": removes the marked openssl.cnf block, the
ld.so.preload entry, or the NSS module registration; nothing else. For
nss, when the p11-kit module file /usr/share/p11-kit/modules/revocheck.module
is installed, it also writes /etc/pkcs11/modules/revocheck.module (an empty
"enable-in:") so that p11-kit-proxy stops loading the module; "enable nss"
removes that file again.`

const (
	backupSuffix      = ".revocheck-backup"
	gnutlsHookName    = "librevocheck-gnutls.so"
	nssModuleFile     = "libnssrevocheck.so"
	nssModuleName     = "revocheck"
	opensslModuleFile = "revocheck-openssl.so"
)

// enableOpts are the flags shared by enable and disable.
type enableOpts struct {
	root       string // prefix for every system path (tests, image staging)
	prefix     string // where revocheck is installed (libraries under it)
	libdir     string // explicit library directory
	opensslDir string // OPENSSLDIR (holds openssl.cnf)
	snippet    string // the installed revocheck-openssl.cnf
	preload    string // ld.so.preload
	nssDB      string // explicit NSS database directory
	user       bool   // NSS: the per-user database
	system     bool   // NSS: the system database
	noVerify   bool   // skip running openssl/modutil to check the result

	stdout, stderr io.Writer
}

func (o *enableOpts) register(fs *flag.FlagSet) {
	fs.StringVar(&o.root, "root", "/", "prefix every system path with `DIR` (a staged image or a test tree)")
	fs.StringVar(&o.prefix, "prefix", "", "installation prefix of revocheck's libraries (default: derived from this program's location, then /usr and /usr/local)")
	fs.StringVar(&o.libdir, "libdir", "", "`DIR` holding librevocheck-gnutls.so and pkcs11/libnssrevocheck.so (default: searched under the prefix)")
	fs.StringVar(&o.opensslDir, "openssl-dir", "", "`DIR` holding openssl.cnf, OpenSSL's OPENSSLDIR (default: asked from the openssl command)")
	fs.StringVar(&o.snippet, "snippet", "/etc/ssl/revocheck-openssl.cnf", "the installed OpenSSL config snippet to include")
	fs.StringVar(&o.preload, "preload-file", "/etc/ld.so.preload", "the dynamic loader's preload list")
	fs.StringVar(&o.nssDB, "nssdb", "", "NSS database `DIR` to use instead of /etc/pki/nssdb and ~/.pki/nssdb")
	fs.BoolVar(&o.user, "user", false, "nss: use the per-user database ~/.pki/nssdb")
	fs.BoolVar(&o.system, "system", false, "nss: use the system database /etc/pki/nssdb (the default unless --user is given)")
	fs.BoolVar(&o.noVerify, "no-verify", false, "do not run openssl/modutil afterwards to check that the stack loads revocheck")
}

// sys maps a system path into the root.
func (o *enableOpts) sys(p string) string {
	if o.root == "" || o.root == "/" {
		return filepath.Clean(p)
	}
	return filepath.Join(o.root, p)
}

func (o *enableOpts) live() bool { return o.root == "" || o.root == "/" }

func (o *enableOpts) say(stack, format string, args ...any) {
	fmt.Fprintf(o.stdout, "%s: %s\n", stack, fmt.Sprintf(format, args...))
}

func cmdEnable(args []string, stdout, stderr io.Writer) error {
	return enableMain("enable", enableUsage, args, stdout, stderr)
}

func cmdDisable(args []string, stdout, stderr io.Writer) error {
	return enableMain("disable", disableUsage, args, stdout, stderr)
}

func enableMain(verb, usageText string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(verb, usageText, stderr)
	o := &enableOpts{stdout: stdout, stderr: stderr}
	o.register(fs)
	// Flags may follow the stack names: "enable nss --user".
	var stacks []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		stacks = append(stacks, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(stacks) == 0 {
		fs.Usage()
		return errors.New(verb + ": name a TLS stack: openssl, gnutls, nss or all")
	}
	var expanded []string
	for _, s := range stacks {
		switch s {
		case "all":
			expanded = append(expanded, "openssl", "gnutls", "nss")
		case "openssl", "gnutls", "nss":
			expanded = append(expanded, s)
		default:
			return fmt.Errorf("%s: unknown TLS stack %q (want openssl, gnutls, nss or all)", verb, s)
		}
	}
	if !o.user {
		o.system = true
	}
	if o.root != "/" {
		abs, err := filepath.Abs(o.root)
		if err != nil {
			return err
		}
		o.root = abs
	}
	var failed []string
	seen := map[string]bool{}
	for _, s := range expanded {
		if seen[s] {
			continue
		}
		seen[s] = true
		var err error
		switch s + " " + verb {
		case "openssl enable":
			err = o.enableOpenSSL()
		case "openssl disable":
			err = o.disableOpenSSL()
		case "gnutls enable":
			err = o.enableGnuTLS()
		case "gnutls disable":
			err = o.disableGnuTLS()
		case "nss enable":
			err = o.enableNSS()
		case "nss disable":
			err = o.disableNSS()
		}
		if errors.Is(err, os.ErrPermission) {
			err = fmt.Errorf("%w (system files: run as root, or use --user for NSS)", err)
		}
		if err != nil {
			fmt.Fprintf(stderr, "revocheck: error: %s: %s\n", s, err)
			failed = append(failed, s)
		}
	}
	if len(failed) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%s failed for %s", verb, strings.Join(failed, ", "))}
	}
	if verb == "enable" && o.live() {
		if d := probeDaemon(); !d.Answering {
			fmt.Fprintf(o.stdout, "note: the check daemon is not answering at %s, so every client loads librevocheck.so (a Go runtime) itself; "+
				"`systemctl enable --now revocheck-checkd.socket` avoids that (docs/ARCHITECTURE.md, \"The check daemon\")\n", d.Socket)
		}
	}
	return nil
}

// resolveInRoot follows symlinks of p (an absolute system path) with
// absolute targets taken inside the root, and returns the host path of the
// final file (which may not exist).
func (o *enableOpts) resolveInRoot(p string) (string, error) {
	cur := filepath.Clean(p)
	for i := 0; i < 40; i++ {
		host := o.sys(cur)
		fi, err := os.Lstat(host)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return host, nil
		}
		t, err := os.Readlink(host)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(cur), t)
		}
		cur = filepath.Clean(t)
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", p)
}

// shown turns a host path back into the path as the system sees it.
func (o *enableOpts) shown(host string) string {
	if o.live() {
		return host
	}
	if rel, err := filepath.Rel(o.root, host); err == nil && !strings.HasPrefix(rel, "..") {
		return o.root + ":/" + rel
	}
	return host
}

// enableBackups lists, per stack, the originals `revocheck enable` kept
// on this system (for `revocheck status`).
func enableBackups() map[string][]string {
	o := &enableOpts{root: "/", system: true, user: true}
	cands := map[string][]string{"gnutls": {"/etc/ld.so.preload"}}
	if host, _, err := o.opensslConfPath(); err == nil {
		cands["openssl"] = []string{host}
	}
	if dbs, err := o.nssDBs(); err == nil {
		for _, db := range dbs {
			cands["nss"] = append(cands["nss"], filepath.Join(db, "pkcs11.txt"))
		}
	}
	out := map[string][]string{}
	for stack, files := range cands {
		for _, f := range files {
			if _, err := os.Stat(f + backupSuffix); err == nil {
				out[stack] = append(out[stack], f+backupSuffix)
			}
		}
	}
	return out
}
