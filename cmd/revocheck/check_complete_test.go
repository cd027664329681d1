package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/revocheck/revocheck/integration/harness"
)

// leafOnlyServer serves site's leaf without its intermediate (a common
// misconfiguration) on 127.0.0.1 and returns host:port.
func leafOnlyServer(t *testing.T, env *harness.Env, site string) string {
	t.Helper()
	s := env.PKI.Sites[site]
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{
		Certificate: [][]byte{s.Leaf.Cert.Raw}, PrivateKey: s.Leaf.Key}}})
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				c.(*tls.Conn).Handshake()
			}(c)
		}
	}()
	return ln.Addr().String()
}

// check --connect completes a chain the server left incomplete from the
// preloaded set, says with which certificate, and then checks the
// completed chain; without the set, or with completion off, it fails as
// before; a revoked leaf under a completed chain is still refused.
func TestCheckConnectCompletesChain(t *testing.T) {
	env := harness.New(t)
	good, revoked := leafOnlyServer(t, env, "good"), leafOnlyServer(t, env, "revoked")
	connect := func(hostport string, extra ...string) (int, string, string) {
		args := append([]string{"check", "--json", "--cache-dir", env.CacheDir, "--ca", env.RootPEM, "--connect", hostport}, extra...)
		return runCLI(t, nil, args...)
	}
	code, _, errOut := connect(good)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "unknown authority")

	// A certificate in the set with the issuer's name and key identifier
	// but another key: offered, and refused by the signature check.
	real := env.PKI.Sites["good"].Issuer.Cert
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(77), Subject: real.Subject, SubjectKeyId: real.SubjectKeyId,
		NotBefore: real.NotBefore, NotAfter: real.NotAfter, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	forged, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	fake := filepath.Join(t.TempDir(), "forged.pem")
	require.NoError(t, os.WriteFile(fake, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: forged}), 0o644))
	code, _, errOut = runCLI(t, nil, "mirror", "intermediates", "--out", env.CacheDir, fake)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = connect(good)
	require.Equal(t, 1, code, "a forged intermediate must not complete the chain")
	require.Contains(t, errOut, "unknown authority")

	issuer := env.Sites["good"].Issuer
	bundle := filepath.Join(t.TempDir(), "int.pem")
	require.NoError(t, os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuer}), 0o644))
	code, _, errOut = runCLI(t, nil, "mirror", "intermediates", "--out", env.CacheDir, bundle)
	require.Equal(t, 0, code, errOut)

	code, out, errOut := connect(good)
	require.Equal(t, 0, code, errOut)
	var res jsonCheck
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	sum := sha256.Sum256(issuer)
	require.Len(t, res.Completed, 1)
	require.Equal(t, hex.EncodeToString(sum[:]), res.Completed[0].SHA256)
	require.Contains(t, res.Completed[0].Subject, "CN=")
	require.Len(t, res.Chain, 2, "leaf and the completed intermediate, each checked against its issuer")
	require.Equal(t, "not_revoked", res.Chain[0].Outcome)

	_, text, _ := runCLI(t, nil, "check", "--cache-dir", env.CacheDir, "--ca", env.RootPEM, "--connect", good)
	require.Contains(t, text, "chain completed with a preloaded intermediate the server did not send: ")
	require.Contains(t, text, hex.EncodeToString(sum[:]))

	code, out, _ = connect(revoked)
	require.Equal(t, 2, code, out)
	require.True(t, strings.Contains(out, `"outcome": "revoked"`), out)

	for _, off := range []string{"intermediates=off", "intermediates.complete=false"} {
		code, _, errOut = connect(good, "--set", off)
		require.Equal(t, 1, code, off)
		require.Contains(t, errOut, "unknown authority")
	}
}
