package filterbuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/integration/testpki"
)

func TestFilterAnswersAndCoverage(t *testing.T) {
	p, err := testpki.Generate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	for _, name := range []string{"good", "revoked", "unenrolled"} {
		cert, issuer, err := ReadChainPEM(p.Sites[name].ChainPEM)
		if err != nil {
			t.Fatal(err)
		}
		e, err := FromChain(cert, issuer, name == "revoked")
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	now := time.Now().Add(time.Hour)
	data, err := Filter(entries, now)
	if err != nil {
		t.Fatal(err)
	}
	f, err := clubcard.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	cov := f.Coverage()
	if len(cov) != 1 || cov[0].LogID != testpki.LogID || cov[0].High != uint64(now.UnixMilli()) || cov[0].Low > entries[0].Input.SCTs[0].Timestamp {
		t.Fatalf("coverage %+v", cov)
	}
	for _, e := range entries {
		want := clubcard.NotRevoked
		if e.Revoked {
			want = clubcard.Revoked
		}
		if got := f.Query(&e.Input); got != want {
			t.Errorf("serial %x: %v, want %v", e.Input.Serial, got, want)
		}
	}
	// A certificate logged after the filter's coverage is not covered.
	late := entries[0].Input
	late.SCTs = []certinput.SCT{{LogID: testpki.LogID, Timestamp: uint64(now.Add(time.Minute).UnixMilli())}}
	if got := f.Query(&late); got != clubcard.NotCovered {
		t.Errorf("late certificate: %v", got)
	}
	if _, err := Filter(append(entries, entries[0]), now); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate serial accepted: %v", err)
	}
}

func TestReadChainPEMErrors(t *testing.T) {
	p, err := testpki.Generate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadChainPEM(p.Root.CertPEM); err == nil || !strings.Contains(err.Error(), "followed by its issuer") {
		t.Errorf("single certificate: %v", err)
	}
	swapped := filepath.Join(t.TempDir(), "swapped.pem")
	a, _ := os.ReadFile(p.Int.CertPEM)
	b, _ := os.ReadFile(p.Sites["good"].Leaf.CertPEM)
	os.WriteFile(swapped, append(a, b...), 0o644)
	if _, _, err := ReadChainPEM(swapped); err == nil {
		t.Error("issuer first, then leaf: accepted")
	}
	uncov, issuer, _ := ReadChainPEM(p.Sites["uncovered"].ChainPEM)
	e, _ := FromChain(uncov, issuer, true)
	if _, err := Filter([]Entry{e}, time.Now()); err == nil || !strings.Contains(err.Error(), "SCTs") {
		t.Errorf("no SCTs at all: %v", err)
	}
}
