package cder

import (
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// FuzzNext: every element lies inside the buffer, right after the previous
// one, starts with a SEQUENCE tag, and the walk stops where it says; where
// cryptobyte reads a DER SEQUENCE at the same offset, rc_der_next returns
// the same element.
func FuzzNext(f *testing.F) {
	for _, s := range [][]byte{
		{}, {0x30}, {0x30, 0x00}, {0x30, 0x01, 0xff}, {0x30, 0x02, 0x01},
		{0x30, 0x81, 0x01, 0x05}, {0x30, 0x82, 0x00, 0x01, 0x05, 0x30, 0x00},
		{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, {0x30, 0x85, 1, 1, 1, 1, 1}, {0x30, 0x80, 0x00, 0x00},
		{0x31, 0x00}, {0x30, 0x00, 0x30, 0x03, 0x02, 0x01, 0x00, 0x04},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		spans, end := Split(buf)
		pos := 0
		for i, s := range spans {
			if s.Start != pos || s.Len < 2 || s.Start+s.Len > len(buf) || buf[s.Start] != 0x30 {
				t.Fatalf("element %d %+v after offset %d of %d bytes", i, s, pos, len(buf))
			}
			pos = s.Start + s.Len
		}
		if end != pos {
			t.Fatalf("stopped at %d, elements end at %d", end, pos)
		}
		// cryptobyte's strict DER reading, element by element.
		in := cryptobyte.String(buf)
		for i := 0; ; i++ {
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !in.ReadAnyASN1Element(&el, &tag) || tag != cbasn1.SEQUENCE {
				break
			}
			if i >= len(spans) || spans[i].Len != len(el) {
				t.Fatalf("element %d: cryptobyte reads %d bytes, rc_der_next %v", i, len(el), spans)
			}
		}
	})
}
