package gotls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/integration/harness"
)

func client(t *testing.T, env *harness.Env, overrides string, insecure bool) *http.Client {
	t.Helper()
	cfg := config.Default()
	cfg.CacheDir = env.CacheDir
	if err := cfg.ApplyOverrides(overrides, "test"); err != nil {
		t.Fatal(err)
	}
	chk := engine.New(cfg)
	t.Cleanup(chk.Close)
	pemData, err := os.ReadFile(env.RootPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{RootCAs: pool, InsecureSkipVerify: insecure}
	base.DisableKeepAlives = true
	return &http.Client{Transport: Transport(chk, base)}
}

func TestTransportAgainstLocalSites(t *testing.T) {
	env := harness.New(t)
	c := client(t, env, "", false)
	for _, tc := range []struct {
		site    string
		refused bool
		outcome outcome.Outcome
	}{
		{"good", false, 0},
		{"uncovered", false, 0},
		{"unenrolled", false, 0},
		{"revoked", true, outcome.Revoked},
		{"revoked-int", true, outcome.Revoked},
		{"crl-revoked", true, outcome.Revoked},
	} {
		resp, err := c.Get(env.Sites[tc.site].URL)
		if tc.refused {
			var re *Error
			if !errors.As(err, &re) || re.Outcome != tc.outcome {
				t.Errorf("%s: err = %v, want refusal with %v", tc.site, err, tc.outcome)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.site, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "hello from "+tc.site) {
			t.Errorf("%s: body %q", tc.site, body)
		}
	}
}

func TestDenyPolicyAndInsecure(t *testing.T) {
	env := harness.New(t)
	deny := client(t, env, "policy.not-covered=deny", false)
	if _, err := deny.Get(env.Sites["uncovered"].URL); err == nil {
		t.Error("uncovered accepted under not-covered=deny")
	}
	if _, err := deny.Get(env.Sites["good"].URL); err != nil {
		t.Errorf("good refused: %v", err)
	}
	insecure := client(t, env, "", true)
	resp, err := insecure.Get(env.Sites["revoked"].URL)
	if err != nil {
		t.Fatalf("InsecureSkipVerify should skip checks like curl -k: %v", err)
	}
	resp.Body.Close()
}

// policy.ct = enforce: a leaf whose SCTs fail the CT policy is refused with
// a *CTError (which is also an *Error); a logged one passes; a revoked one
// is still an *Error with outcome revoked; report and off refuse nothing
// but the revoked one.
func TestCTError(t *testing.T) {
	env := harness.NewCT(t)
	raw, err := os.ReadFile(env.CT.LogList)
	if err != nil {
		t.Fatal(err)
	}
	list, err := ctlog.ParseV3(raw, env.CT.LogList)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctlog.WriteTree(env.CacheDir, list, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"off", "report", "enforce"} {
		c := client(t, env, "policy.ct="+mode, false)
		for _, site := range []string{"ct-none", "ct-forged", "ct-logged", "ct-revoked", "uncovered"} {
			resp, err := c.Get(env.Sites[site].URL)
			if err == nil {
				resp.Body.Close()
			}
			var ce *CTError
			var re *Error
			switch {
			case site == "ct-revoked":
				if !errors.As(err, &re) || re.Outcome != outcome.Revoked || errors.As(err, &ce) {
					t.Errorf("ct=%s %s: err = %v, want a revocation", mode, site, err)
				}
			case mode == "enforce" && (site == "ct-none" || site == "ct-forged"):
				if !errors.As(err, &ce) || ce.Depth != 0 || !strings.Contains(err.Error(), "Certificate Transparency") {
					t.Errorf("ct=%s %s: err = %v, want a *CTError at depth 0", mode, site, err)
				} else if !errors.As(err, &re) || re.Outcome != outcome.CTNoncompliant {
					t.Errorf("ct=%s %s: a *CTError must unwrap to an *Error with ct_noncompliant", mode, site)
				}
			default:
				if err != nil {
					t.Errorf("ct=%s %s: %v", mode, site, err)
				}
			}
		}
	}
}
