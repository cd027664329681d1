package certinput_test

import (
	"encoding/pem"
	"fmt"
	"os"

	"github.com/revocheck/revocheck/core/certinput"
)

func ExampleExtract() {
	read := func(name string) []byte {
		b, err := os.ReadFile("../../testdata/fixtures/firefox-crlite-certs/" + name)
		if err != nil {
			panic(err)
		}
		blk, _ := pem.Decode(b)
		return blk.Bytes
	}
	leaf, issuer := read("valid.pem"), read("issuer.pem")

	var scts [8]certinput.SCT // Extract appends here without allocating
	in := certinput.Input{SCTs: scts[:0]}
	if err := certinput.Extract(leaf, issuer, &in); err != nil {
		panic(err)
	}
	fmt.Printf("serial %x\n", in.Serial)
	fmt.Printf("issuer %x\n", in.IssuerSPKIHash[:8])
	for _, s := range in.SCTs {
		fmt.Printf("sct %x %d\n", s.LogID[:4], s.Timestamp)
	}
	// Output:
	// serial 00da4f392bfd8bcea8
	// issuer f11c3dd048f74edb
	// sct a4b90990 1539633254686
	// sct ee4bbdb7 1539633255219
	// sct 5ea773f9 1539633255395
}
