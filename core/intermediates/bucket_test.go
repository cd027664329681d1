package intermediates

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
)

func TestBucketsRoundTrip(t *testing.T) {
	root := issue(t, "Root", nil, true, nil, false)
	var ders [][]byte
	for i := 0; i < 40; i++ {
		ders = append(ders, issue(t, fmt.Sprint("CA ", i), root, true, nil, false).der)
	}
	ders = append(ders, ders[0]) // a duplicate
	bs := Buckets(ders)
	n := 0
	for i, b := range bs {
		if i > 0 && bs[i-1].Name >= b.Name {
			t.Fatalf("buckets out of order: %s, %s", bs[i-1].Name, b.Name)
		}
		got, err := ParseBucket(b.PEM)
		if err != nil {
			t.Fatal(err)
		}
		for j, der := range got {
			s := sha256.Sum256(der)
			if fmt.Sprintf("%02x.pem", s[0]) != b.Name {
				t.Fatalf("%s holds a certificate of byte %02x", b.Name, s[0])
			}
			if j > 0 {
				p := sha256.Sum256(got[j-1])
				if bytes.Compare(p[:], s[:]) >= 0 {
					t.Fatalf("%s not sorted by hash", b.Name)
				}
			}
		}
		n += len(got)
	}
	if n != 40 {
		t.Fatalf("%d certificates, want 40", n)
	}
	for _, bad := range []string{
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		string(bs[0].PEM) + "-----BEGIN CERTIFICATE-----\nAAAA",
	} {
		if _, err := ParseBucket([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseBucket(f *testing.F) {
	root := issue(f, "Root", nil, true, nil, false)
	f.Add(Buckets([][]byte{root.der})[0].PEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ders, err := ParseBucket(b)
		if err != nil {
			return
		}
		for _, d := range ders {
			if !isSequence(d) {
				t.Fatal("returned a block that is not one DER SEQUENCE")
			}
		}
		// Whatever parses can be indexed without a crash.
		if _, _, err := Build(ders, Meta{}); err != nil {
			t.Fatal(err)
		}
	})
}
