package main

// `revocheck enable|disable nss`: the PKCS#11 trust module in NSS databases.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
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
	return nil
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
	return nil
}
