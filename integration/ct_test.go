package integration

// Certificate Transparency enforcement (issue 22) with real clients: curl,
// python3 and `openssl s_client` through the OpenSSL provider, wget and
// gnutls-cli through the GnuTLS hook, against TLS servers on 127.0.0.1 whose
// leaves carry real SCTs from test logs (testpki.GenerateCT). The log list
// enters the cache the way an operator's does: `revocheck mirror ctlogs`.
// policy.ct is set as an admin would: the OpenSSL provider's section in
// openssl.cnf, and the revocheck config file for GnuTLS programs.

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
)

const (
	// X509_V_ERR_NO_VALID_SCTS as curl and python print it.
	curlNoSCTs = "Certificate Transparency required, but no valid SCTs found"
	// syslog notice of rc_check_der (note_ct in rc_loader.c).
	ctNoticeReport  = "do not satisfy the Certificate Transparency policy; allowing it (policy.ct = report)"
	ctNoticeEnforce = "do not satisfy the Certificate Transparency policy; refusing it (policy.ct = enforce)"
)

// ctRefused are the CT sites whose SCTs do not satisfy Mozilla's policy;
// ctAccepted those whose do. ct-revoked is compliant but revoked.
var (
	ctRefused  = []string{"ct-none", "ct-one-operator", "ct-forged", "ct-missigned", "ct-retired-late"}
	ctAccepted = []string{"ct-logged", "ct-retired-early"}
	// Issued by an intermediate the clubcard data does not enroll (a
	// private PKI: CT does not apply), without SCTs or with a fake one.
	ctPrivate = []string{"uncovered", "unenrolled"}
)

// ctEnv is harness.NewCT with the test logs mirrored into its cache by the
// real CLI.
func ctEnv(t *testing.T) *harness.Env {
	t.Helper()
	env := harness.NewCT(t)
	bin := filepath.Join(env.Build, "bin", "revocheck")
	out, err := env.Run(t, nil, bin, "mirror", "ctlogs", "--out", env.CacheDir, env.CT.LogList)
	if err != nil {
		t.Fatalf("revocheck mirror ctlogs: %v\n%s", err, out)
	}
	return env
}

// ctConfig writes a revocheck config file setting policy.ct (mode "" sets
// nothing: the default).
func ctConfig(t *testing.T, mode string) string {
	t.Helper()
	body := "# policy.ct " + mode + "\n"
	if mode != "" {
		body += "[policy]\nct = \"" + mode + "\"\n"
	}
	rc := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(rc, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return rc
}

// ctOpenSSL is the environment of an OpenSSL program with the provider,
// policy.ct set in its openssl.cnf section (mode "": not set), no user
// config file, and syslog going to sink.
func ctOpenSSL(t *testing.T, env *harness.Env, mode string, sink *logSink) []string {
	var keys []string
	if mode != "" {
		keys = append(keys, "policy.ct = "+mode)
	}
	return append(confEnv(opensslConf(t, env, keys...)), "REVOCHECK_CONFIG="+ctConfig(t, ""), sink.env())
}

func ctModes() []string { return []string{"off", "report", "enforce", ""} }

// ctWant: does a client with policy.ct = mode get site's page?
func ctWant(env *harness.Env, mode, site string) bool {
	if env.Sites[site].Revoked {
		return false
	}
	if mode != "enforce" {
		return true
	}
	for _, s := range ctRefused {
		if s == site {
			return false
		}
	}
	return true
}

func ctSites() []string {
	s := append(append(append([]string(nil), ctRefused...), ctAccepted...), "ct-revoked")
	return append(s, ctPrivate...)
}

func TestCTCurl(t *testing.T) {
	needClient(t, "curl")
	env := ctEnv(t)
	for _, mode := range ctModes() {
		t.Run("ct="+mode, func(t *testing.T) {
			sink := newLogSink(t)
			ce := ctOpenSSL(t, env, mode, sink)
			for _, site := range ctSites() {
				msg := curlNoSCTs
				if env.Sites[site].Revoked {
					msg = curlRevoked
				}
				curlExpect(t, env, ce, site, ctWant(env, mode, site), msg)
			}
			// Every refused site in one process: one notice (report and
			// enforce), none when CT is off.
			args := []string{"-sS", "--max-time", "30", "--cacert", env.RootPEM}
			for _, site := range ctRefused {
				args = append(args, env.Sites[site].URL)
			}
			sink2 := newLogSink(t)
			out, _ := env.Run(t, append(ce, sink2.env()), "curl", args...)
			if strings.Contains(out, "revocheck") {
				t.Errorf("nothing of revocheck's may reach curl's stderr:\n%s", out)
			}
			switch mode {
			case "report":
				if strings.Count(out, "hello from") != len(ctRefused) {
					t.Errorf("report: want every page:\n%s", out)
				}
				if n := sink2.count(ctNoticeReport); n != 1 || len(sink2.messages()) != 1 {
					t.Errorf("report: want exactly one notice in one process, got %q", sink2.messages())
				}
			case "enforce":
				if n := sink2.count(ctNoticeEnforce); n != 1 || len(sink2.messages()) != 1 {
					t.Errorf("enforce: want exactly one notice in one process, got %q", sink2.messages())
				}
			default:
				if m := sink2.messages(); len(m) != 0 {
					t.Errorf("policy.ct %q: want no notice, got %q", mode, m)
				}
			}
		})
	}
}

func TestCTPython(t *testing.T) {
	needClient(t, "python3")
	env := ctEnv(t)
	for _, mode := range []string{"off", "report", "enforce"} {
		t.Run("ct="+mode, func(t *testing.T) {
			sink := newLogSink(t)
			args := []string{testdataScript("fetch.py"), env.RootPEM}
			for _, site := range ctSites() {
				args = append(args, env.Sites[site].URL)
			}
			out, err := env.Run(t, ctOpenSSL(t, env, mode, sink), "python3", args...)
			if err != nil {
				t.Fatalf("fetch.py: %v", err)
			}
			for _, site := range ctSites() {
				line := lineWith(out, env.Sites[site].URL+" ")
				switch {
				case ctWant(env, mode, site):
					if !strings.Contains(line, "ok hello from "+site) {
						t.Errorf("python %s: want the page, got %q", site, line)
					}
				case env.Sites[site].Revoked:
					if !strings.Contains(line, "CERTIFICATE_VERIFY_FAILED") || !strings.Contains(line, curlRevoked) {
						t.Errorf("python %s: want certificate revoked, got %q", site, line)
					}
				default:
					if !strings.Contains(line, "CERTIFICATE_VERIFY_FAILED") || !strings.Contains(line, curlNoSCTs) {
						t.Errorf("python %s: want CERTIFICATE_VERIFY_FAILED ... %s, got %q", site, curlNoSCTs, line)
					}
				}
			}
			if mode == "report" && sink.count(ctNoticeReport) != 1 {
				t.Errorf("report: want one notice, got %q", sink.messages())
			}
		})
	}
}

// s_client -verify_return_error: OpenSSL's own text for error 71.
func TestCTSClient(t *testing.T) {
	needClient(t, "openssl")
	env := ctEnv(t)
	sink := newLogSink(t)
	on := ctOpenSSL(t, env, "enforce", sink)
	for _, site := range []string{"ct-none", "ct-forged", "ct-logged", "ct-revoked"} {
		out, err := env.Run(t, on, "openssl", "s_client", "-verify_return_error", "-CAfile", env.RootPEM,
			"-connect", "127.0.0.1:"+portOf(env, site))
		switch site {
		case "ct-logged":
			if err != nil || !strings.Contains(out, "Verify return code: 0 (ok)") {
				t.Errorf("s_client %s: want success, got exit %d:\n%s", site, exitCode(err), out)
			}
		case "ct-revoked":
			if err == nil || !strings.Contains(out, "verify error:num=23:certificate revoked") {
				t.Errorf("s_client %s: want num=23 certificate revoked, got exit %d:\n%s", site, exitCode(err), out)
			}
		default:
			want := "verify error:num=71:" + curlNoSCTs
			if err == nil || !strings.Contains(out, want) {
				t.Errorf("s_client %s: want %q, got exit %d:\n%s", site, want, exitCode(err), out)
			}
		}
	}
}

// OpenSSL's own CT validation (-ct, a CT log file with the test logs' keys)
// checks the test PKI's SCTs independently of revocheck: the compliant and
// one-operator sites' SCTs all verify, the forged and mis-signed sites'
// second SCT does not.
func TestCTSClientOwnValidation(t *testing.T) {
	needClient(t, "openssl")
	env := ctEnv(t)
	var b strings.Builder
	b.WriteString("enabled_logs = ")
	for i := range env.CT.Logs {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "log%d", i)
	}
	b.WriteString("\n")
	for i, l := range env.CT.Logs {
		fmt.Fprintf(&b, "[log%d]\ndescription = %s\nkey = %s\n", i, l.Description, base64.StdEncoding.EncodeToString(l.SPKI))
	}
	logFile := filepath.Join(t.TempDir(), "ct_log_list.cnf")
	if err := os.WriteFile(logFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for site, valid := range map[string]int{"ct-logged": 2, "ct-retired-early": 2, "ct-one-operator": 2,
		"ct-retired-late": 2, "ct-forged": 1, "ct-missigned": 1} {
		out, err := env.Run(t, nil, "openssl", "s_client", "-ct", "-ctlogfile", logFile, "-CAfile", env.RootPEM,
			"-connect", "127.0.0.1:"+portOf(env, site))
		// An invalid SCT leaves OpenSSL's error on the queue: exit 1.
		if (err != nil) != (valid < 2) || (valid < 2) != strings.Contains(out, "sct invalid signature") {
			t.Errorf("s_client -ct %s: exit %v with %d valid SCTs", site, err, valid)
		}
		if n := strings.Count(out, "SCT validation status: valid"); n != valid {
			t.Errorf("s_client -ct %s: %d SCTs valid, want %d:\n%s", site, n, valid, out)
		}
		if n := strings.Count(out, "SCT validation status: invalid"); n != 2-valid {
			t.Errorf("s_client -ct %s: %d SCTs invalid, want %d:\n%s", site, n, 2-valid, out)
		}
	}
}

func TestCTWget(t *testing.T) {
	requireTool(t, "wget")
	env := ctEnv(t)
	hook := gnutlsHookPath(t)
	for _, mode := range ctModes() {
		t.Run("ct="+mode, func(t *testing.T) {
			sink := newLogSink(t)
			he := []string{"LD_PRELOAD=" + hook, "REVOCHECK_CONFIG=" + ctConfig(t, mode),
				"REVOCHECK_CACHE_DIR=" + env.CacheDir, sink.env()}
			for _, site := range ctSites() {
				out, err := env.Run(t, he, "wget", "--no-config", "--no-hsts", "-nv", "--tries=1", "--timeout=20",
					"--ca-certificate="+env.RootPEM, "-O-", env.Sites[site].URL)
				switch {
				case ctWant(env, mode, site):
					expectFetched(t, site, out, err)
				case env.Sites[site].Revoked:
					expectRefused(t, site, out, err, "has been revoked")
				default:
					expectRefused(t, site, out, err, "is not trusted")
					if strings.Contains(out, "has been revoked") {
						t.Errorf("%s: a CT refusal is not a revocation:\n%s", site, out)
					}
				}
			}
			// One wget process per site: one notice each for the refused ones.
			want := map[string]string{"report": ctNoticeReport, "enforce": ctNoticeEnforce}[mode]
			if want == "" {
				if m := sink.messages(); len(m) != 0 {
					t.Errorf("policy.ct %q: want no notice, got %q", mode, m)
				}
			} else if n := sink.count(want); n != len(ctRefused) {
				t.Errorf("want %d notices %q (one per process), got %q", len(ctRefused), want, sink.messages())
			}
		})
	}
	// The same policy through the hook's own overrides.
	t.Run("overrides", func(t *testing.T) {
		he := []string{"LD_PRELOAD=" + hook, "REVOCHECK_CONFIG=" + ctConfig(t, ""),
			"REVOCHECK_CACHE_DIR=" + env.CacheDir, "REVOCHECK_GNUTLS_OVERRIDES=policy.ct=enforce"}
		for _, site := range []string{"ct-one-operator", "ct-logged"} {
			out, err := env.Run(t, he, "wget", "--no-config", "--no-hsts", "-nv", "--tries=1", "--timeout=20",
				"--ca-certificate="+env.RootPEM, "-O-", env.Sites[site].URL)
			if ctWant(env, "enforce", site) {
				expectFetched(t, site, out, err)
			} else {
				expectRefused(t, site, out, err, "is not trusted")
			}
		}
	})
}

// gnutls-cli prints every status bit: the CT refusal's text.
func TestCTGnuTLSCli(t *testing.T) {
	requireTool(t, "gnutls-cli")
	env := ctEnv(t)
	he := []string{"LD_PRELOAD=" + gnutlsHookPath(t), "REVOCHECK_CONFIG=" + ctConfig(t, "enforce"),
		"REVOCHECK_CACHE_DIR=" + env.CacheDir}
	for _, site := range []string{"ct-none", "ct-retired-late", "ct-logged", "ct-revoked"} {
		out, err := env.Run(t, he, "gnutls-cli", "--x509cafile", env.RootPEM, "-p", portOf(env, site), "127.0.0.1")
		switch site {
		case "ct-logged":
			if !strings.Contains(out, "The certificate is trusted.") {
				t.Errorf("gnutls-cli %s: want trusted, got %v:\n%s", site, err, out)
			}
		case "ct-revoked":
			if err == nil || !strings.Contains(out, "The certificate chain is revoked.") {
				t.Errorf("gnutls-cli %s: want revoked, got %v:\n%s", site, err, out)
			}
		default:
			want := "The certificate is NOT trusted. The certificate chain violates the signer's constraints."
			if err == nil || !strings.Contains(out, want) {
				t.Errorf("gnutls-cli %s: want %q, got %v:\n%s", site, want, err, out)
			}
		}
	}
}

// The NSS module sees an issuer Name and a serial, never the leaf's SCTs:
// policy.ct in its module string changes nothing, revoked is still
// distrusted (docs/NSS.md).
func TestCTNSSUnaffected(t *testing.T) {
	tstclnt := nssTool(t, "tstclnt")
	env := ctEnv(t)
	db := nssDBWith(t, env, "cache-dir="+env.CacheDir+";policy.ct=enforce")
	for _, site := range []string{"ct-none", "ct-forged", "ct-retired-late", "ct-logged", "ct-revoked"} {
		out, err := nssRun(t, nil, "GET / HTTP/1.0\r\n\r\n", tstclnt,
			"-h", "127.0.0.1", "-p", portOf(env, site), "-d", db)
		hello := strings.Contains(out, "hello from "+site)
		if site == "ct-revoked" {
			if err == nil || hello || !strings.Contains(out, secUntrustedCert) {
				t.Errorf("%s: want %s, got exit %v", site, secUntrustedCert, err)
			}
		} else if err != nil || !hello {
			t.Errorf("%s: the NSS module must not apply policy.ct: %v", site, err)
		}
	}
}

// Through the check daemon, with no library to fall back on: the
// ct_noncompliant outcome travels in the daemon's reply and each adapter
// maps it to its native error. policy.ct comes in the adapter's overrides.
func TestCTDaemon(t *testing.T) {
	needClient(t, "curl")
	requireTool(t, "wget")
	env := ctEnv(t)
	sock, _ := startDaemon(t, env, env.CacheDir)
	t.Run("curl", func(t *testing.T) {
		for _, mode := range []string{"report", "enforce"} {
			sink := newLogSink(t)
			on := append(daemonEnv(opensslConf(t, env, append(daemonOnly, "policy.ct = "+mode)...), sock), sink.env())
			for _, site := range []string{"ct-one-operator", "ct-missigned", "ct-logged", "ct-revoked", "uncovered"} {
				msg := curlNoSCTs
				if env.Sites[site].Revoked {
					msg = curlRevoked
				}
				curlExpect(t, env, on, site, ctWant(env, mode, site), msg)
			}
			want := map[string]string{"report": ctNoticeReport, "enforce": ctNoticeEnforce}[mode]
			if n := sink.count(want); n != 2 { // two curl processes met a non-compliant leaf
				t.Errorf("ct=%s: want 2 notices %q, got %q", mode, want, sink.messages())
			}
		}
	})
	t.Run("wget", func(t *testing.T) {
		he := []string{"LD_PRELOAD=" + gnutlsHookPath(t), "REVOCHECK_SOCKET=" + sock,
			"REVOCHECK_LIBRARY=/nonexistent/librevocheck.so.0", "REVOCHECK_GNUTLS_UNAVAILABLE=deny",
			"REVOCHECK_GNUTLS_OVERRIDES=policy.ct=enforce;cache-dir=" + env.CacheDir}
		for _, site := range []string{"ct-retired-late", "ct-logged", "ct-revoked"} {
			out, err := env.Run(t, he, "wget", "--no-config", "--no-hsts", "-nv", "--tries=1", "--timeout=20",
				"--ca-certificate="+env.RootPEM, "-O-", env.Sites[site].URL)
			switch site {
			case "ct-logged":
				expectFetched(t, site, out, err)
			case "ct-revoked":
				expectRefused(t, site, out, err, "has been revoked")
			default:
				expectRefused(t, site, out, err, "is not trusted")
			}
		}
	})
}

// A forked child cannot call into the parent's Go runtime: it asks a fresh
// `revocheck check --request` helper, whose reply carries ct_noncompliant
// like the library's.
func TestCTFork(t *testing.T) {
	needClient(t, "python3")
	env := ctEnv(t)
	sink := newLogSink(t)
	out, err := env.Run(t, ctOpenSSL(t, env, "enforce", sink), "python3", testdataScript("fork.py"), env.RootPEM,
		env.Sites["ct-logged"].URL, env.Sites["ct-none"].URL)
	if err != nil {
		t.Fatalf("fork.py: %v", err)
	}
	for _, l := range []string{"parent good:", "child good:"} {
		if !strings.Contains(lineWith(out, l), "ok hello from ct-logged") {
			t.Errorf("%s want the logged site:\n%s", l, out)
		}
	}
	for _, l := range []string{"parent revoked:", "child revoked:", "parent after fork revoked:"} {
		if !strings.Contains(lineWith(out, l), curlNoSCTs) {
			t.Errorf("%s want the CT refusal:\n%s", l, out)
		}
	}
	if strings.Contains(out, "forked after") || !strings.Contains(out, "child exit status: 0") {
		t.Errorf("the child must check for real and exit cleanly:\n%s", out)
	}
}
