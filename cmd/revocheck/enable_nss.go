package main

// `revocheck enable|disable nss`: the PKCS#11 trust module in NSS databases.

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// nssDBs returns the host paths of the databases the flags select.
func (o *enableOpts) nssDBs() ([]string, error) {
	if o.nssDB != "" {
		return []string{o.sys(o.nssDB)}, nil
	}
	var dbs []string
	if o.system {
		dbs = append(dbs, o.sys("/etc/pki/nssdb"))
	}
	if o.user {
		h, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("--user: %w", err)
		}
		dbs = append(dbs, o.sys(filepath.Join(h, ".pki", "nssdb")))
	}
	return dbs, nil
}

func nssTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found (Debian: apt install libnss3-tools; Fedora: nss-tools)", name)
	}
	return p, nil
}

func runTool(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	// modutil asks for confirmation when a browser might be running; -force
	// skips that, and stdin is empty so nothing can hang on a prompt.
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// nssModules reads the module names registered in a database's pkcs11.txt.
func nssModules(db string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(db, "pkcs11.txt"))
	if err != nil {
		return nil, err
	}
	mods := map[string]string{} // name -> library
	var lib string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "":
			lib = ""
		case strings.HasPrefix(l, "library="):
			lib = strings.TrimPrefix(l, "library=")
		case strings.HasPrefix(l, "name="):
			mods[strings.TrimPrefix(l, "name=")] = lib
		}
	}
	return mods, nil
}

func (o *enableOpts) enableNSS() error {
	lib, err := o.findLib(filepath.Join("pkcs11", nssModuleFile))
	if err != nil {
		return err
	}
	// modutil loads the module to register it: in a --root tree it loads
	// the tree's copy; the recorded path is then changed to the system one.
	loadPath := o.sys(lib)
	if err := checkELF(loadPath); err != nil {
		return err
	}
	certutil, err := nssTool("certutil")
	if err != nil {
		return err
	}
	modutil, err := nssTool("modutil")
	if err != nil {
		return err
	}
	dbs, err := o.nssDBs()
	if err != nil {
		return err
	}
	for _, db := range dbs {
		if err := o.enableNSSDB(db, lib, loadPath, certutil, modutil); err != nil {
			return err
		}
	}
	return o.enableP11Kit()
}

func (o *enableOpts) enableNSSDB(db, sysLib, lib, certutil, modutil string) error {
	created := false
	if _, err := os.Stat(filepath.Join(db, "cert9.db")); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(db, "cert8.db")); err == nil {
			return fmt.Errorf("%s is a legacy (dbm) NSS database; convert it to sql first (certutil -K -X -d sql:%s)", o.shown(db), db)
		}
		if err := os.MkdirAll(db, 0o755); err != nil {
			return err
		}
		if _, err := runTool(certutil, "-N", "--empty-password", "-d", "sql:"+db); err != nil {
			return err
		}
		created = true
		if db == o.sys("/etc/pki/nssdb") {
			// The system database is read by every user (as on Fedora).
			for _, f := range []string{"cert9.db", "key4.db", "pkcs11.txt"} {
				if err := os.Chmod(filepath.Join(db, f), 0o644); err != nil {
					return err
				}
			}
		}
		if err := writeCreatedMarker(db); err != nil {
			return err
		}
		o.say("nss", "created the NSS database %s", o.shown(db))
	}
	mods, err := nssModules(db)
	if err != nil {
		return err
	}
	if have, ok := mods[nssModuleName]; ok {
		if have == sysLib || have == lib {
			o.say("nss", "%s: module %q already registered (%s); nothing changed", o.shown(db), nssModuleName, have)
			if have != lib {
				return nil // a --root tree's path: this system cannot load it
			}
			return o.verifyNSS(db, modutil)
		}
		return fmt.Errorf("%s: a module named %q is registered with another library, %s; run `revocheck disable nss` first", o.shown(db), nssModuleName, have)
	}
	pk := filepath.Join(db, "pkcs11.txt")
	old, err := os.ReadFile(pk)
	if err != nil {
		return err
	}
	backup := ""
	if !created {
		if backup, err = backupOnce(pk); err != nil {
			return err
		}
	}
	if _, err := runTool(modutil, "-add", nssModuleName, "-libfile", lib, "-dbdir", "sql:"+db, "-force"); err != nil {
		// modutil rewrites pkcs11.txt itself: put the old one back whole.
		if rerr := writeAtomic(pk, old, 0o644); rerr != nil {
			return fmt.Errorf("%w\nrestoring %s failed: %v", err, pk, rerr)
		}
		return err
	}
	if backup != "" {
		o.say("nss", "registered %s as %q in %s; original module list kept as %s", sysLib, nssModuleName, o.shown(db), o.shown(backup))
	} else {
		o.say("nss", "registered %s as %q in %s", sysLib, nssModuleName, o.shown(db))
	}
	if err := o.verifyNSS(db, modutil); err != nil {
		return err
	}
	if lib != sysLib {
		return setNSSLibrary(pk, lib, sysLib)
	}
	return nil
}

// setNSSLibrary changes the library path recorded for revocheck's module in
// pkcs11.txt from the --root tree's path to the path the tree's own system
// will see.
func setNSSLibrary(pk, from, to string) error {
	data, err := os.ReadFile(pk)
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	n := 0
	for i, l := range lines {
		if strings.TrimSpace(l) == "library="+from {
			lines[i] = "library=" + to
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%s: expected one library=%s line after modutil -add, found %d", pk, from, n)
	}
	return writeAtomic(pk, []byte(strings.Join(lines, "\n")), 0o644)
}

// verifyNSS asks modutil whether NSS loads the module.
func (o *enableOpts) verifyNSS(db, modutil string) error {
	if o.noVerify {
		return nil
	}
	out, err := runTool(modutil, "-list", nssModuleName, "-dbdir", "sql:"+db)
	if err != nil {
		return fmt.Errorf("registered, but NSS does not list it: %w", err)
	}
	status := ""
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Status:"); ok {
			status = strings.TrimSpace(v)
		}
	}
	if status == "" {
		for _, l := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "status:"); ok {
				status = strings.TrimSpace(v)
			}
		}
	}
	o.say("nss", "verified with modutil -list: module %q status %q", nssModuleName, status)
	return nil
}

func (o *enableOpts) disableNSS() error {
	dbs, err := o.nssDBs()
	if err != nil {
		return err
	}
	var modutil string
	for _, db := range dbs {
		mods, err := nssModules(db)
		if errors.Is(err, fs.ErrNotExist) {
			o.say("nss", "%s: no NSS database; nothing to do", o.shown(db))
			continue
		}
		if err != nil {
			return err
		}
		if _, ok := mods[nssModuleName]; !ok {
			o.say("nss", "%s: module %q not registered; nothing changed", o.shown(db), nssModuleName)
			continue
		}
		if modutil == "" {
			if modutil, err = nssTool("modutil"); err != nil {
				return err
			}
		}
		pk := filepath.Join(db, "pkcs11.txt")
		old, err := os.ReadFile(pk)
		if err != nil {
			return err
		}
		if _, err := backupOnce(pk); err != nil {
			return err
		}
		if _, err := runTool(modutil, "-delete", nssModuleName, "-dbdir", "sql:"+db, "-force"); err != nil {
			if rerr := writeAtomic(pk, old, 0o644); rerr != nil {
				return fmt.Errorf("%w\nrestoring %s failed: %v", err, pk, rerr)
			}
			return err
		}
		o.say("nss", "deleted module %q from %s", nssModuleName, o.shown(db))
	}
	return o.disableP11Kit()
}

// ---------------------------------------------------------------- p11-kit

// The p11-kit module file `make install` ships makes every program that
// loads p11-kit-proxy.so load the module, whatever the NSS databases say.
// It is a package file, so disable leaves it and writes an administrator's
// file of the same name instead: p11-kit reads /etc/pkcs11/modules before
// the package directory and merges the two key by key, and an empty
// enable-in: loads the module in no program, the proxy included. enable
// removes that file again, and only that file.
const (
	p11kitPackageFile  = "/usr/share/p11-kit/modules/revocheck.module"
	p11kitOverrideFile = "/etc/pkcs11/modules/revocheck.module"
	p11kitOverrideMark = "# Written by `revocheck disable nss`; removed by `revocheck enable nss`."
	p11kitOverride     = p11kitOverrideMark + `
# Overrides ` + p11kitPackageFile + ` key by key: an empty
# enable-in: loads the module in no program, p11-kit-proxy included.
enable-in:
`
)

// p11kitScope: the p11-kit files are system-wide, so only a system-wide
// enable or disable (not --user alone, not --nssdb) touches them.
func (o *enableOpts) p11kitScope() bool { return o.system && o.nssDB == "" }

// parseP11KitConf reads the "key: value" lines of a p11-kit module file.
func parseP11KitConf(data string) map[string]string {
	conf := map[string]string{}
	for _, l := range strings.Split(data, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			conf[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return conf
}

// p11kitKeepsOut tells why a module file keeps the module out of
// p11-kit-proxy, or "" when it does not (p11-kit's is_module_enabled: an
// enable-in: that is present, even empty, wins over disable-in:).
func p11kitKeepsOut(conf map[string]string) string {
	listed := func(key string) bool {
		return slices.Contains(strings.FieldsFunc(conf[key], func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }), "p11-kit-proxy")
	}
	if _, ok := conf["enable-in"]; ok {
		if !listed("enable-in") {
			return "its enable-in: leaves out p11-kit-proxy"
		}
		return ""
	}
	if listed("disable-in") {
		return "its disable-in: names p11-kit-proxy"
	}
	return ""
}

func (o *enableOpts) disableP11Kit() error {
	if !o.p11kitScope() {
		return nil
	}
	if fi, err := os.Stat(o.sys(p11kitPackageFile)); err != nil || !fi.Mode().IsRegular() {
		return nil // not installed: p11-kit loads nothing of ours
	}
	host := o.sys(p11kitOverrideFile)
	data, err := os.ReadFile(host)
	switch {
	case err == nil && strings.HasPrefix(string(data), p11kitOverrideMark):
		o.say("nss", "%s already keeps p11-kit from loading the module; nothing changed", o.shown(host))
		return nil
	case err == nil:
		if why := p11kitKeepsOut(parseP11KitConf(string(data))); why != "" {
			o.say("nss", "%s (not written by revocheck) already keeps the module out of p11-kit-proxy: %s; left alone", o.shown(host), why)
			return nil
		}
		return fmt.Errorf("%s (not written by revocheck) lets p11-kit-proxy load the module; left alone: add an empty \"enable-in:\" line to it by hand", o.shown(host))
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return err
	}
	if err := writeAtomic(host, []byte(p11kitOverride), 0o644); err != nil {
		return err
	}
	o.say("nss", "wrote %s: p11-kit no longer loads the module from %s (a package file, left in place)", o.shown(host), p11kitPackageFile)
	return nil
}

func (o *enableOpts) enableP11Kit() error {
	if !o.p11kitScope() {
		return nil
	}
	host := o.sys(p11kitOverrideFile)
	data, err := os.ReadFile(host)
	if err != nil || !strings.HasPrefix(string(data), p11kitOverrideMark) {
		return nil // none, or the administrator's own: theirs to keep
	}
	if err := os.Remove(host); err != nil {
		return err
	}
	if _, err := os.Stat(o.sys(p11kitPackageFile)); err != nil {
		o.say("nss", "removed %s (written by `revocheck disable nss`)", o.shown(host))
		return nil
	}
	o.say("nss", "removed %s (written by `revocheck disable nss`): p11-kit-proxy loads the module from %s again", o.shown(host), p11kitPackageFile)
	return nil
}

// nssCreatedMarker names, inside a database `enable nss` created, the
// SHA-256 of its certificate and key stores as they were made
// (sha256sum's format). The package's purge removes such a database only
// if it still holds exactly that: nothing anyone added is ever deleted.
const nssCreatedMarker = "revocheck-created"

func writeCreatedMarker(db string) error {
	var b strings.Builder
	for _, f := range []string{"cert9.db", "key4.db"} {
		data, err := os.ReadFile(filepath.Join(db, f))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(data), f)
	}
	return writeAtomic(filepath.Join(db, nssCreatedMarker), []byte(b.String()), 0o644)
}
