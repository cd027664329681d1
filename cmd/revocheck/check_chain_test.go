package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
)

// TestCheckConnectChain: --connect judges every certificate of the verified
// chain against its issuer, as the adapters do: a server whose intermediate
// is revoked is refused (exit 2) though its end-entity is not revoked.
func TestCheckConnectChain(t *testing.T) {
	env := harness.New(t)
	hostport := func(site string) string {
		return strings.TrimSuffix(strings.TrimPrefix(env.Sites[site].URL, "https://"), "/")
	}
	check := func(site string, extra ...string) (int, jsonCheck, string) {
		t.Helper()
		args := append([]string{"check", "--json", "--cache-dir", env.CacheDir, "--connect", hostport(site), "--ca", env.RootPEM}, extra...)
		code, out, e := runCLI(t, nil, args...)
		var res jsonCheck
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s: %v\n%s%s", site, err, out, e)
		}
		return code, res, out
	}
	code, res, out := check("revoked-int")
	if code != 2 || res.Outcome != "revoked" || res.Allowed || res.DecidedBy != 1 || len(res.Chain) != 2 {
		t.Fatalf("revoked intermediate: exit %d\n%s", code, out)
	}
	if c := res.Chain[0]; c.Depth != 0 || c.Outcome != "not_revoked" || !c.Allowed {
		t.Errorf("the end-entity itself is not revoked: %+v", c)
	}
	if c := res.Chain[1]; c.Depth != 1 || c.Outcome != "revoked" || !strings.Contains(c.Subject, "revoked intermediate") {
		t.Errorf("the intermediate is: %+v", c)
	}
	if res.Input == nil || res.Input.Serial != res.Chain[0].Input.Serial {
		t.Errorf("input must stay the end-entity's: %+v", res.Input)
	}
	code, res, out = check("good")
	if code != 0 || res.Outcome != "not_revoked" || !res.Allowed || len(res.Chain) != 2 ||
		res.Chain[0].Outcome != "not_revoked" || res.Chain[1].Outcome != "not_revoked" {
		t.Errorf("good: exit %d\n%s", code, out)
	}
	// A policy that denies a certificate the data does not cover denies
	// the chain, whichever certificate it is.
	if code, res, out := check("uncovered", "--set", "policy.not-covered=deny"); code != 2 || res.Outcome != "not_covered" || res.DecidedBy != 0 {
		t.Errorf("uncovered denied by policy: exit %d\n%s", code, out)
	}
	// Text output names the certificate that decided.
	code, text, e := runCLI(t, nil, "check", "--cache-dir", env.CacheDir, "--connect", hostport("revoked-int"), "--ca", env.RootPEM)
	if code != 2 || !strings.HasPrefix(text, "revoked: certificate 1 (") || !strings.Contains(text, "[1] revoked (DENIED)") {
		t.Errorf("text: exit %d\n%s%s", code, text, e)
	}
	// The same chain given on stdin with its root: the intermediate is
	// checked too; without the root it cannot be (its issuer is not given).
	chain, _ := os.ReadFile(env.Sites["revoked-int"].ChainPEM)
	root, _ := os.ReadFile(env.RootPEM)
	if code, out, _ := runCLI(t, append(chain, root...), "check", "--cache-dir", env.CacheDir); code != 2 {
		t.Errorf("stdin chain with root: exit %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, chain, "check", "--cache-dir", env.CacheDir); code != 0 || !strings.Contains(out, "[0] not_revoked") || strings.Contains(out, "[1]") {
		t.Errorf("stdin chain without root: exit %d\n%s", code, out)
	}
}
