// Command crlgen writes a large CRL for benchmarks: what an administrator
// would hand to `curl --crlfile` today. It signs N revoked entries (random
// 16-byte serials, plus any serials given with -include) with an issuing CA's
// certificate and PKCS#8 key.
//
//	crlgen -ca int.pem -key int.key.pem -n 1000000 -include leaf.pem -out big.crl.pem
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"
)

func main() {
	caPath := flag.String("ca", "", "issuing CA certificate (PEM)")
	keyPath := flag.String("key", "", "issuing CA private key (PKCS#8 PEM)")
	n := flag.Int("n", 1000000, "number of random revoked serials")
	include := flag.String("include", "", "comma-separated PEM certificates to list as revoked too")
	out := flag.String("out", "", "output CRL (PEM)")
	flag.Parse()
	if err := run(*caPath, *keyPath, *n, *include, *out); err != nil {
		fmt.Fprintf(os.Stderr, "crlgen: %v\n", err)
		os.Exit(1)
	}
}

func readPEM(path, typ string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != typ {
		return nil, fmt.Errorf("%s: no %s block", path, typ)
	}
	return b.Bytes, nil
}

func run(caPath, keyPath string, n int, include, out string) error {
	if caPath == "" || keyPath == "" || out == "" || n < 0 {
		return errors.New("usage: crlgen -ca CA.pem -key KEY.pem [-n N] [-include a.pem,b.pem] -out CRL.pem")
	}
	der, err := readPEM(caPath, "CERTIFICATE")
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	kder, err := readPEM(keyPath, "PRIVATE KEY")
	if err != nil {
		return err
	}
	k, err := x509.ParsePKCS8PrivateKey(kder)
	if err != nil {
		return err
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return errors.New("key cannot sign")
	}
	now := time.Now()
	entries := make([]x509.RevocationListEntry, 0, n+4)
	for _, p := range strings.Split(include, ",") {
		if p == "" {
			continue
		}
		cd, err := readPEM(p, "CERTIFICATE")
		if err != nil {
			return err
		}
		c, err := x509.ParseCertificate(cd)
		if err != nil {
			return err
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: now.Add(-time.Minute)})
	}
	buf := make([]byte, 16)
	for i := 0; i < n; i++ {
		if _, err := rand.Read(buf); err != nil {
			return err
		}
		buf[0] &= 0x7f
		entries = append(entries, x509.RevocationListEntry{SerialNumber: new(big.Int).SetBytes(buf), RevocationTime: now.Add(-time.Hour)})
	}
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		RevokedCertificateEntries: entries,
		Number:                    big.NewInt(now.Unix()),
		ThisUpdate:                now.Add(-time.Hour),
		NextUpdate:                now.Add(7 * 24 * time.Hour),
	}, ca, signer)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := pem.Encode(f, &pem.Block{Type: "X509 CRL", Bytes: crl}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
