package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// adapterStatus says whether one TLS stack's adapter is installed and
// active on this machine, and how we know; for NSS also which programs
// that protects, and which it does not although they use NSS.
type adapterStatus struct {
	Stack        string   `json:"stack"`
	Installed    bool     `json:"installed"`
	Active       bool     `json:"active"`
	Evidence     []string `json:"evidence"`
	Protects     []string `json:"protects,omitempty"`
	NotProtected []string `json:"not_protected,omitempty"`
}

func fileContains(path, needle string) bool {
	data, err := os.ReadFile(path)
	return err == nil && bytes.Contains(data, []byte(needle))
}

// runQuiet runs a command with a short timeout and returns its stdout.
func runQuiet(env []string, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.Output()
	return string(out)
}

// opensslField reads "KEY: \"value\"" from `openssl version -a` style output.
func opensslField(out, key string) string {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+": "); ok {
			return strings.Trim(v, "\"")
		}
	}
	return ""
}

func detectOpenSSL() adapterStatus {
	s := adapterStatus{Stack: "openssl"}
	if _, err := exec.LookPath("openssl"); err != nil {
		s.Evidence = append(s.Evidence, "openssl command not found")
		return s
	}
	info := runQuiet(nil, "openssl", "version", "-d", "-m")
	if mod := opensslField(info, "MODULESDIR"); mod != "" {
		p := filepath.Join(mod, "revocheck-openssl.so")
		if _, err := os.Stat(p); err == nil {
			s.Installed = true
			s.Evidence = append(s.Evidence, "provider module "+p)
		}
	}
	conf := os.Getenv("OPENSSL_CONF")
	if conf == "" {
		if dir := opensslField(info, "OPENSSLDIR"); dir != "" {
			conf = filepath.Join(dir, "openssl.cnf")
		}
	}
	// The provider is active when OpenSSL itself lists it: the only proof
	// that survives config includes and silent activation failures.
	out := runQuiet(nil, "openssl", "list", "-providers", "-verbose")
	listed, st, state := providerState(out)
	block, _, _ := findBlock(strings.Split(readOrEmpty(conf), "\n"))
	switch {
	case listed || strings.Contains(out, "revocheck"):
		s.Active = true
		e := "`openssl list -providers` lists revocheck (config " + conf + ")"
		if state != "" {
			e += "; its state: " + state
		}
		if st != "" && st != "active" {
			e += " (OpenSSL status " + st + ": loaded, but its checks cannot work)"
		}
		s.Evidence = append(s.Evidence, e)
	case block >= 0:
		s.Evidence = append(s.Evidence, conf+" has revocheck's block, but OpenSSL does not load the provider: `openssl list -providers` says why")
	default:
		s.Evidence = append(s.Evidence, "not loaded by "+conf)
	}
	return s
}

// providerState reads the revocheck provider's entry in `openssl list
// -providers -verbose`: whether it is listed, its OpenSSL status, and the
// state it reports in its build info ("revocheck VERSION for OPENSSL; STATE").
func providerState(out string) (listed bool, status, state string) {
	in := false
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   "):
			in = t == "revocheck"
			listed = listed || in
		case !in || !strings.HasPrefix(l, "    ") || strings.HasPrefix(l, "     "):
			// another provider's lines, or the parameter list (deeper)
		case strings.HasPrefix(t, "status:"):
			status = strings.TrimSpace(strings.TrimPrefix(t, "status:"))
		case strings.HasPrefix(t, "build info:"):
			if _, st, ok := strings.Cut(t, "; "); ok {
				state = st
			}
		}
	}
	return listed, status, state
}

func detectGnuTLS() adapterStatus {
	s := adapterStatus{Stack: "gnutls"}
	for _, src := range []struct{ where, text string }{
		{"/etc/ld.so.preload", readOrEmpty("/etc/ld.so.preload")},
		{"$LD_PRELOAD", os.Getenv("LD_PRELOAD")},
	} {
		for _, f := range strings.Fields(strings.ReplaceAll(src.text, ":", " ")) {
			if strings.Contains(filepath.Base(f), "librevocheck-gnutls") {
				s.Active = true
				s.Evidence = append(s.Evidence, src.where+" preloads "+f)
				if _, err := os.Stat(f); err == nil {
					s.Installed = true
				} else {
					s.Evidence = append(s.Evidence, f+" is missing: the preload entry is broken")
					s.Active = false
				}
			}
		}
	}
	if !s.Active {
		s.Evidence = append(s.Evidence, "not in /etc/ld.so.preload or $LD_PRELOAD")
	}
	return s
}

func readOrEmpty(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func detectNSS() adapterStatus {
	home, _ := os.UserHomeDir()
	return detectNSSIn("/", home)
}

// nssNotProtected is said whatever is installed: Chromium uses NSS, reads
// ~/.pki/nssdb and loads the module, yet is not protected.
const nssNotProtected = "Chromium and Chrome: their TrustStoreNSS only looks up certificates already stored in a database, " +
	"so the module is never asked about a site's certificates and revoked sites open"

// detectNSSIn reports what NSS really loads: the module registered (with
// its library present) in the system or user database or a Firefox
// profile, or named by a Firefox policy, or the p11-kit module file when
// something loads p11-kit-proxy. A module file alone loads nothing. root
// prefixes every system path (tests); home is the user's home directory.
func detectNSSIn(root, home string) adapterStatus {
	s := adapterStatus{Stack: "nss", NotProtected: []string{nssNotProtected}}
	sys := func(p string) string { return filepath.Join(root, p) }
	type db struct{ dir, shown, readers string }
	dbs := []db{{sys("/etc/pki/nssdb"), "/etc/pki/nssdb", "libcurl-nss (its default database) and programs given -d sql:/etc/pki/nssdb"}}
	if home != "" {
		user := filepath.Join(home, ".pki", "nssdb")
		dbs = append(dbs, db{sys(user), user, "programs given -d sql:" + user + " (Chromium reads it too, but is not protected)"})
	}
	for _, pat := range []string{".mozilla/firefox/*", "snap/firefox/common/.mozilla/firefox/*", ".var/app/org.mozilla.firefox/.mozilla/firefox/*"} {
		if home == "" {
			break
		}
		profiles, _ := filepath.Glob(sys(filepath.Join(home, pat, "pkcs11.txt")))
		for _, p := range profiles {
			dir := filepath.Dir(p)
			shown := strings.TrimPrefix(dir, filepath.Clean(root))
			if root == "/" {
				shown = dir
			}
			dbs = append(dbs, db{dir, shown, "Firefox with profile " + filepath.Base(dir)})
		}
	}
	var proxyLoaders []string
	systemLoads, systemProxy := false, false // /etc/pki/nssdb loads the module, or p11-kit-proxy
	firefoxProfiles, firefoxProtected, firefoxPolicy := 0, 0, false
	for _, d := range dbs {
		mods, err := nssModules(d.dir)
		if err != nil {
			continue
		}
		isFirefox := strings.HasPrefix(d.readers, "Firefox")
		if isFirefox {
			firefoxProfiles++
		}
		registered := false
		for name, lib := range mods {
			switch {
			case name == nssModuleName || filepath.Base(lib) == nssModuleFile:
				s.Installed = true
				if filepath.IsAbs(lib) {
					if _, err := os.Stat(sys(lib)); err != nil {
						s.Evidence = append(s.Evidence, fmt.Sprintf("registered in %s, but its library %s is missing: NSS skips it", d.shown, lib))
						continue
					}
				}
				registered = true
				systemLoads = systemLoads || d.shown == "/etc/pki/nssdb"
				s.Active = true
				s.Evidence = append(s.Evidence, fmt.Sprintf("loaded from the NSS database %s: read by %s", d.shown, d.readers))
			case strings.Contains(filepath.Base(lib), "p11-kit-proxy"):
				systemProxy = systemProxy || d.shown == "/etc/pki/nssdb"
				proxyLoaders = append(proxyLoaders, "the NSS database "+d.shown+" ("+d.readers+")")
			}
		}
		if isFirefox && registered {
			firefoxProtected++
		}
	}
	if f := sys("/etc/crypto-policies/back-ends/nss.config"); fileContains(f, "p11-kit-proxy") {
		proxyLoaders = append(proxyLoaders, "the system crypto policy /etc/crypto-policies/back-ends/nss.config (every NSS program)")
	}
	for _, f := range []string{"/etc/firefox/policies/policies.json", "/etc/firefox-esr/policies/policies.json",
		"/usr/lib/firefox/distribution/policies.json", "/usr/lib/firefox-esr/distribution/policies.json"} {
		if fileContains(sys(f), nssModuleFile) {
			s.Installed, s.Active = true, true
			s.Evidence = append(s.Evidence, "Firefox policy "+f+" loads it (SecurityDevices) in every profile")
			firefoxPolicy = true
		}
	}
	if s.detectP11Kit(sys, proxyLoaders) && systemProxy {
		systemLoads = true
	}
	switch {
	case firefoxPolicy:
	case firefoxProfiles > firefoxProtected:
		s.NotProtected = append(s.NotProtected, fmt.Sprintf("Firefox: %d of this user's %d profile(s) do not load the module "+
			"(Settings > Privacy & Security > Security Devices, or modutil -add revocheck -dbdir sql:PROFILE)", firefoxProfiles-firefoxProtected, firefoxProfiles))
	case firefoxProfiles == 0:
		s.NotProtected = append(s.NotProtected, "Firefox: it reads its own profile database, not /etc/pki/nssdb or ~/.pki/nssdb: "+
			"load the module in each profile or with the SecurityDevices policy")
	}
	if !s.Active {
		s.NotProtected = append([]string{"tstclnt, vfychain, libcurl-nss, Firefox: nothing here loads the module (revocheck enable nss)"}, s.NotProtected...)
	}
	if s.Active {
		s.Protects = []string{"tstclnt, vfychain, certutil -V and other NSS programs opening a database listed above as loading it"}
		if systemLoads {
			s.Protects = append(s.Protects, "libcurl-nss (it opens /etc/pki/nssdb)")
		}
		if firefoxPolicy || firefoxProtected > 0 {
			s.Protects = append(s.Protects, "Firefox (the profiles or policy listed above)")
		}
	}
	if !s.Installed {
		var where []string
		for _, d := range dbs {
			where = append(where, d.shown)
		}
		s.Evidence = append(s.Evidence, "not registered in "+strings.Join(where, ", ")+", nor loaded through p11-kit")
	}
	return s
}

// detectP11Kit: the p11-kit module file makes the module visible only to
// programs that load p11-kit-proxy.so; loaders lists those found. It
// reports whether the file would load the module through the proxy.
func (s *adapterStatus) detectP11Kit(sys func(string) string, loaders []string) bool {
	// p11-kit reads /etc/pkcs11/modules before the package directory and
	// merges files of the same name key by key, the first one read winning
	// (conf.c): the administrator's file overrides the keys it sets.
	var file string
	conf := map[string]string{}
	for _, f := range []string{p11kitOverrideFile, p11kitPackageFile} {
		if fi, err := os.Stat(sys(f)); err == nil && fi.Mode().IsRegular() {
			if file == "" {
				file = f
			}
			for k, v := range parseP11KitConf(readOrEmpty(sys(f))) {
				if _, ok := conf[k]; !ok {
					conf[k] = v
				}
			}
		}
	}
	for _, f := range []string{"/usr/local/share/p11-kit/modules/revocheck.module"} {
		if _, err := os.Stat(sys(f)); err == nil && file == "" {
			s.Evidence = append(s.Evidence, "p11-kit module file "+f+": p11-kit does not read that directory (install with prefix=/usr, or copy it to /etc/pkcs11/modules)")
		}
	}
	if file == "" {
		return false
	}
	s.Installed = true
	why := ""
	switch mod := conf["module"]; {
	case mod == "":
		why = "it names no module"
	case p11kitKeepsOut(conf) != "":
		why = p11kitKeepsOut(conf)
	case filepath.IsAbs(mod):
		if _, err := os.Stat(sys(mod)); err != nil {
			why = "its module " + mod + " is missing"
		}
	}
	switch {
	case why != "":
		s.Evidence = append(s.Evidence, "p11-kit module file "+file+" loads nothing: "+why)
		return false
	case len(loaders) == 0:
		s.Evidence = append(s.Evidence, "p11-kit module file "+file+" is installed, but nothing here loads p11-kit-proxy.so "+
			"(no NSS database above, nor the system crypto policy), so NSS does not load the module through it")
	default:
		s.Active = true
		s.Evidence = append(s.Evidence, "p11-kit module file "+file+", loaded through p11-kit-proxy.so by "+strings.Join(loaders, "; "))
	}
	return true
}

func detectAdapters() []adapterStatus {
	return []adapterStatus{detectOpenSSL(), detectGnuTLS(), detectNSS()}
}
