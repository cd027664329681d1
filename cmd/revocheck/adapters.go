package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// adapterStatus says whether one TLS stack's adapter is installed and
// active on this machine, and how we know.
type adapterStatus struct {
	Stack     string   `json:"stack"`
	Installed bool     `json:"installed"`
	Active    bool     `json:"active"`
	Evidence  []string `json:"evidence"`
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
	out := runQuiet(nil, "openssl", "list", "-providers")
	if strings.Contains(out, "revocheck") {
		s.Active = true
		s.Evidence = append(s.Evidence, "`openssl list -providers` lists revocheck (config "+conf+")")
	} else {
		s.Evidence = append(s.Evidence, "not loaded by "+conf)
	}
	return s
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
	s := adapterStatus{Stack: "nss"}
	dbs := []string{"/etc/pki/nssdb"}
	if h, err := os.UserHomeDir(); err == nil {
		dbs = append(dbs, filepath.Join(h, ".pki", "nssdb"))
	}
	for _, db := range dbs {
		if fileContains(filepath.Join(db, "pkcs11.txt"), "nssrevocheck") {
			s.Installed, s.Active = true, true
			s.Evidence = append(s.Evidence, "registered in NSS database "+db)
		}
	}
	for _, f := range []string{"/etc/pkcs11/modules/revocheck.module", "/usr/share/p11-kit/modules/revocheck.module"} {
		if _, err := os.Stat(f); err == nil {
			s.Installed, s.Active = true, true
			s.Evidence = append(s.Evidence, "p11-kit module file "+f)
		}
	}
	if !s.Active {
		s.Evidence = append(s.Evidence, "not registered in "+strings.Join(dbs, " or ")+" nor with p11-kit")
	}
	return s
}

func detectAdapters() []adapterStatus {
	return []adapterStatus{detectOpenSSL(), detectGnuTLS(), detectNSS()}
}
