// Package cder exposes adapters-common/rc_der.h — the C adapters' splitter
// of rc_find_issuers' answer (concatenated DER certificates) — to Go, for
// tests only: FuzzNext holds the C code to its bounds and to
// x/crypto/cryptobyte's reading of the same bytes.
package cder

/*
#cgo CFLAGS: -I${SRCDIR}/../../adapters-common -std=c11 -Wall -Wextra -Werror
#include <stdlib.h>
#include "rc_der.h"

static int cder_next(const unsigned char *buf, size_t len, size_t *off, size_t *start, size_t *clen)
{
	const unsigned char *cert = NULL;
	int ok = rc_der_next(buf, len, off, &cert, clen);
	*start = ok ? (size_t)(cert - buf) : 0;
	return ok;
}
*/
import "C"

// Span is one element rc_der_next returned: buf[Start:Start+Len].
type Span struct{ Start, Len int }

// Split runs rc_der_next over buf until it stops and returns the elements
// and the offset it stopped at.
func Split(buf []byte) (spans []Span, end int) {
	if len(buf) == 0 {
		return nil, 0
	}
	p := C.CBytes(buf) // C memory: the C code reads nothing outside it
	defer C.free(p)
	var off, start, clen C.size_t
	for C.cder_next((*C.uchar)(p), C.size_t(len(buf)), &off, &start, &clen) != 0 {
		spans = append(spans, Span{int(start), int(clen)})
		if len(spans) > len(buf) {
			break // no progress: the caller's invariant check reports it
		}
	}
	return spans, int(off)
}
