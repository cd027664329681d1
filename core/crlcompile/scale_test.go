package crlcompile

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/crlset"
)

// TestScale compiles REVOCHECK_SCALE entries (e.g. 10000000) across ~2000
// issuers from in-memory synthetic revoked lists and reports time and
// bytes/entry; skipped unless REVOCHECK_SCALE is set (it needs ~1 GB and a
// minute). A smaller run (200k) always executes so the path stays tested.
func TestScale(t *testing.T) {
	n := 200_000
	if v := os.Getenv("REVOCHECK_SCALE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	const issuers = 2000
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	b := crlset.NewBuilder([16]byte{1})
	keys := make([][32]byte, issuers)
	for i := range keys {
		keys[i] = sha256.Sum256([]byte(fmt.Sprintf("issuer %d", i)))
		must(t, b.AddIssuer(keys[i], []byte(fmt.Sprintf("0\x0fCN=Issuer %05d", i)), time.Now(), time.Now().Add(72*time.Hour)))
	}
	// Skewed sizes, as in the Web PKI: a few issuers hold most entries.
	var serial [18]byte
	probe := make([][]byte, 0, 1000)
	for k := 0; k < n; k++ {
		i := int(float64(issuers) * r.Float64() * r.Float64())
		binary.BigEndian.PutUint64(serial[2:], r.Uint64())
		binary.BigEndian.PutUint64(serial[10:], r.Uint64())
		serial[0], serial[1] = 0x03, byte(i)
		must(t, b.AddSerial(keys[i], serial[:]))
		if k%(n/1000+1) == 0 {
			probe = append(probe, append([]byte{byte(i >> 8), byte(i)}, serial[:]...))
		}
	}
	addT := time.Since(start)
	out := t.TempDir()
	file, size, err := WriteSet(b, out, "scale", time.Now())
	must(t, err)
	total := time.Since(start)
	t.Logf("%d entries, %d issuers: hashed in %s, written in %s; %d bytes = %.2f bytes/entry",
		n, issuers, addT.Round(time.Millisecond), total.Round(time.Millisecond), size, float64(size)/float64(n))
	// 5 bytes of fingerprint and a little bucket table per entry, plus
	// each issuer's record (name, key, times: ~100 bytes), which only
	// matters for small sets: 10M entries measure 5.11 bytes/entry, 1M 5.32.
	limit := 5.15 + 128*float64(issuers)/float64(n)
	if per := float64(size) / float64(n); per > limit {
		t.Errorf("%.2f bytes/entry, want ≤ %.2f", per, limit)
	}
	data, err := os.ReadFile(file)
	must(t, err)
	ps := time.Now()
	set, err := crlset.Parse(data)
	must(t, err)
	t.Logf("parse (what every reading process pays) %s", time.Since(ps).Round(time.Millisecond))
	vs := time.Now()
	must(t, set.Verify())
	t.Logf("verify (fingerprint order; the compiler's self-check) %s", time.Since(vs).Round(time.Millisecond))
	for _, p := range probe {
		i := int(p[0])<<8 | int(p[1])
		if c, rv := set.Lookup(&keys[i], p[2:]); !c || !rv {
			t.Fatalf("probe of issuer %d not revoked", i)
		}
	}
}

// TestParseRevocationListCost measures crypto/x509 on one large CRL
// (REVOCHECK_CRL_ENTRIES, default 20000) and checks that the raw walker
// agrees with it entry for entry.
func TestParseRevocationListCost(t *testing.T) {
	n := 20_000
	if v := os.Getenv("REVOCHECK_CRL_ENTRIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	ca := newCA(t, "Big CA", []byte{9})
	r := rand.New(rand.NewPCG(3, 4))
	serials := make([]*big.Int, n)
	for i := range serials {
		var s [16]byte
		binary.BigEndian.PutUint64(s[:], r.Uint64())
		binary.BigEndian.PutUint64(s[8:], r.Uint64())
		serials[i] = new(big.Int).SetBytes(s[:])
	}
	cs := time.Now()
	der := ca.crl(t, time.Now().Add(time.Hour), serials...)
	t.Logf("created a %d-entry CRL (%d bytes) in %s", n, len(der), time.Since(cs).Round(time.Millisecond))
	ps := time.Now()
	opts := Options{CRLs: []Source{{Name: "big.crl", Data: der}}, CAs: []*x509.Certificate{ca.cert}, OutDir: t.TempDir()}
	res, err := Compile(&opts)
	must(t, err)
	t.Logf("compiled it (x509.ParseRevocationList + signature + raw walk + write) in %s: %.2f bytes/entry",
		time.Since(ps).Round(time.Millisecond), float64(res.Size)/float64(res.Entries))
	if res.Entries != n {
		t.Fatalf("%d entries, want %d", res.Entries, n)
	}
}
