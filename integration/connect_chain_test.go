package integration

// `revocheck check --connect` judges the chain a real TLS server presents
// as the adapters do: a server whose intermediate is revoked is refused by
// the CLI (exit 2) exactly when curl with the OpenSSL provider refuses it.

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
)

func TestCheckConnectChain(t *testing.T) {
	needClient(t, "curl")
	env := harness.New(t)
	bin := filepath.Join(env.Build, "bin", "revocheck")
	conf := confEnv(opensslConf(t, env))
	for _, c := range []struct {
		site    string
		code    int
		outcome []string // per certificate, end-entity first
	}{
		{"revoked-int", 2, []string{"not_revoked", "revoked"}},
		{"revoked", 2, []string{"revoked", "not_revoked"}},
		{"good", 0, []string{"not_revoked", "not_revoked"}},
	} {
		s := env.Sites[c.site]
		hostport := strings.TrimSuffix(strings.TrimPrefix(s.URL, "https://"), "/")
		out, err := env.Run(t, nil, bin, "check", "--json", "--cache-dir", env.CacheDir, "--ca", env.RootPEM, "--connect", hostport)
		if code := exitCode(err); code != c.code {
			t.Errorf("%s: revocheck check --connect exit %d, want %d", c.site, code, c.code)
		}
		var res struct {
			Outcome string `json:"outcome"`
			Chain   []struct {
				Outcome string `json:"outcome"`
			} `json:"chain"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s: %v\n%s", c.site, err, out)
		}
		var got []string
		for _, x := range res.Chain {
			got = append(got, x.Outcome)
		}
		if strings.Join(got, " ") != strings.Join(c.outcome, " ") {
			t.Errorf("%s: per-certificate outcomes %v, want %v", c.site, got, c.outcome)
		}
		// curl through the provider agrees.
		curlExpect(t, env, conf, c.site, c.code == 0, map[bool]string{true: "", false: curlRevoked}[c.code == 0])
	}
}
