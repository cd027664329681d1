/*
 * rc_der.h — splits rc_find_issuers' answer (concatenated DER
 * certificates) into certificates, for adapters whose stack has no
 * "parse one and advance" call (GnuTLS). Header-only, no allocation.
 */
#ifndef RC_DER_H
#define RC_DER_H

#include <stddef.h>

/*
 * The DER SEQUENCE starting at buf[*off] (tag 0x30, definite length in at
 * most 4 length bytes, entirely inside buf[0..len)): sets *cert to it,
 * *cert_len to its whole length and advances *off past it. Returns 0 at the
 * end of buf or on anything else (the rest of buf is then ignored).
 */
static inline int rc_der_next(const unsigned char *buf, size_t len, size_t *off, const unsigned char **cert,
                              size_t *cert_len)
{
	size_t o = *off;
	if (buf == NULL || o >= len || len - o < 2 || buf[o] != 0x30)
		return 0;
	size_t hdr = 2, body = buf[o + 1];
	if (body & 0x80) {
		size_t nb = body & 0x7f;
		if (nb == 0 || nb > 4 || len - o < 2 + nb)
			return 0;
		body = 0;
		for (size_t i = 0; i < nb; i++)
			body = (body << 8) | buf[o + 2 + i];
		hdr += nb;
	}
	if (body > len - o - hdr)
		return 0;
	*cert = buf + o;
	*cert_len = hdr + body;
	*off = o + hdr + body;
	return 1;
}

#endif /* RC_DER_H */
