package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/revocheck/revocheck/integration/harness"
	"github.com/revocheck/revocheck/internal/cttest"
)

// `revocheck mirror ctlogs` into a cache, then `revocheck check` with
// policy.ct: per SCT log, operator and verdict, and the policy's.
func TestCheckCT(t *testing.T) {
	env := harness.New(t)
	a, err := cttest.NewLog("Test 'A1'", "Operator A", false)
	require.NoError(t, err)
	b, err := cttest.NewLog("Test 'B1'", "Operator B", true)
	require.NoError(t, err)
	list := filepath.Join(t.TempDir(), "log_list.json")
	require.NoError(t, os.WriteFile(list, cttest.V3(a, b), 0o644))
	code, out, errOut := runCLI(t, nil, "mirror", "ctlogs", "--out", env.CacheDir, list)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "2 logs of 2 operators")

	leaf := func(logs ...*cttest.Log) []byte {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		nb := time.Now().Add(-time.Hour)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "ct.test"},
			NotBefore: nb, NotAfter: nb.Add(30 * 24 * time.Hour)}
		der, err := cttest.Issue(tmpl, k.Public(), env.PKI.Int.Cert, env.PKI.Int.Key, cttest.SignWith(nb, logs...))
		require.NoError(t, err)
		chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		return append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: env.PKI.Int.Cert.Raw})...)
	}
	good, oneOp := leaf(a, b), leaf(a)

	code, out, errOut = runCLI(t, good, "check", "--json", "--cache-dir", env.CacheDir, "--set", "policy.ct=enforce")
	require.Equal(t, 0, code, errOut)
	var res jsonCheck
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	c := res.Chain[0].CT
	require.NotNil(t, c, out)
	assert.True(t, c.Applies && c.Compliant, out)
	require.Len(t, c.SCTs, 2)
	for _, s := range c.SCTs {
		assert.True(t, s.Valid, s.Status)
		assert.Contains(t, []string{"Operator A", "Operator B"}, s.Operator)
		assert.True(t, strings.HasPrefix(s.Log, "Test '"), s.Log)
	}

	code, out, _ = runCLI(t, oneOp, "check", "--json", "--cache-dir", env.CacheDir, "--set", "policy.ct=enforce")
	assert.Equal(t, 2, code, out)
	res = jsonCheck{}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Equal(t, "ct_noncompliant", res.Outcome)
	assert.False(t, res.Allowed)
	assert.Contains(t, res.Chain[0].CT.Verdict, "distinct log", out)

	code, out, _ = runCLI(t, oneOp, "check", "--cache-dir", env.CacheDir, "--set", "policy.ct=report")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "ct_noncompliant")
	assert.Contains(t, out, "NOT compliant")
	assert.Contains(t, out, "Test 'A1' (Operator A, usable): valid")

	code, out, _ = runCLI(t, oneOp, "check", "--json", "--cache-dir", env.CacheDir)
	assert.Equal(t, 0, code, out)
	assert.NotContains(t, out, `"ct"`, "policy.ct=off shows nothing of CT")
}
