package certinput

// Extract fills in from a DER end-entity certificate and the DER certificate
// of its issuer: the SHA-256 of the issuer's full SubjectPublicKeyInfo, the
// serial (INTEGER content bytes, leading 0x00 kept; in.Serial aliases cert)
// and the embedded SCTs, appended to in.SCTs[:0]. It allocates nothing when
// cap(in.SCTs) holds every SCT.
//
// Extract does not check that issuer really issued cert (no name match, no
// signature check): the TLS stack has already built and verified the chain,
// and byte-wise name comparison would wrongly reject the rare chains whose
// names match only under RFC 5280's comparison rules.
//
// On error in is left with its previous SCT capacity but undefined contents.
func Extract(cert, issuer []byte, in *Input) error {
	var c Cert
	if err := ParseCert(cert, &c); err != nil {
		return err
	}
	h, err := SPKIHash(issuer)
	if err != nil {
		if e, ok := err.(*Error); ok {
			return errorf("issuer %s", e.msg)
		}
		return err
	}
	in.IssuerSPKIHash = h
	in.Serial = c.Serial
	in.SCTs = in.SCTs[:0]
	if c.SCTList == nil {
		return nil
	}
	n, err := fillSCTList(c.SCTList, in.SCTs[:cap(in.SCTs)])
	if err != nil {
		return err
	}
	if n > cap(in.SCTs) {
		in.SCTs = make([]SCT, n)
		fillSCTList(c.SCTList, in.SCTs)
	}
	in.SCTs = in.SCTs[:n] // a self-assignment: the caller's buffer stays on its stack
	return nil
}
