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

	"github.com/revocheck/revocheck/core/config"
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
