/*
 * gh_complete.c — chain completion for the GnuTLS hook (gh_check.h,
 * gh_complete): the preloaded intermediates that may issue a certificate
 * whose issuer neither the presented chain nor the trust list has, as
 * untrusted chain elements for GnuTLS to verify. Runs only after GnuTLS
 * reported GNUTLS_CERT_SIGNER_NOT_FOUND: a complete chain never gets here.
 */
#include "gh_check.h"

#include <stdlib.h>
#include <string.h>

#include "rc_der.h"

/* rc_find_issuers' answer: the candidates for one certificate. */
#define GH_CANDIDATES_MAX (64 * 1024)
/* Candidates added in all, whatever the rounds. */
#define GH_MAX_ADDED 8

/* 1 when some element of all[0..n) other than all[i] issued all[i], or the
 * trust list holds its issuer. */
static int has_issuer(const gh_funcs *f, gnutls_x509_trust_list_t tl, gnutls_x509_crt_t *all, unsigned int n,
                      unsigned int i)
{
	for (unsigned int j = 0; j < n; j++)
		if (j != i && f->crt_check_issuer(all[i], all[j]))
			return 1;
	gnutls_x509_crt_t anchor = NULL;
	if (tl != NULL && f->tl_get_issuer(tl, all[i], &anchor, GNUTLS_TL_GET_COPY) == 0) {
		f->crt_deinit(anchor);
		return 1;
	}
	return 0;
}

/* Exports all[i] into a heap buffer (the caller frees), NULL on failure. */
static unsigned char *export_der(const gh_funcs *f, gnutls_x509_crt_t crt, size_t *len)
{
	*len = 0;
	int ret = f->crt_export(crt, GNUTLS_X509_FMT_DER, NULL, len);
	if (ret != GNUTLS_E_SHORT_MEMORY_BUFFER || *len == 0 || *len > GH_LINK_DER_MAX)
		return NULL;
	unsigned char *p = malloc(*len);
	if (p != NULL && f->crt_export(crt, GNUTLS_X509_FMT_DER, p, len) != 0) {
		free(p);
		p = NULL;
	}
	return p;
}

/* 1 when der is already one of all[0..n) (a candidate the server sent). */
static int already_in(const gh_funcs *f, gnutls_x509_crt_t *all, unsigned int n, const unsigned char *der,
                      size_t len)
{
	for (unsigned int j = 0; j < n; j++) {
		size_t l = 0;
		unsigned char *d = export_der(f, all[j], &l);
		int same = d != NULL && l == len && memcmp(d, der, len) == 0;
		free(d);
		if (same)
			return 1;
	}
	return 0;
}

/* Imports the candidates in buf[0..len) after all[0..*n), up to max. */
static unsigned int import_candidates(const gh_funcs *f, const unsigned char *buf, size_t len,
                                      gnutls_x509_crt_t *all, unsigned int *n, unsigned int max)
{
	unsigned int added = 0;
	size_t off = 0;
	const unsigned char *der;
	size_t dlen;
	while (*n < max && rc_der_next(buf, len, &off, &der, &dlen)) {
		if (already_in(f, all, *n, der, dlen))
			continue;
		gnutls_x509_crt_t c = NULL;
		if (f->crt_init(&c) < 0)
			break;
		gnutls_datum_t d = {(unsigned char *)der, (unsigned int)dlen};
		if (f->crt_import(c, &d, GNUTLS_X509_FMT_DER) < 0) {
			f->crt_deinit(c);
			continue;
		}
		all[(*n)++] = c;
		added++;
	}
	return added;
}

unsigned int gh_complete(rc_loader *l, const gh_funcs *f, gnutls_x509_trust_list_t tl,
                         const gnutls_x509_crt_t *cert_list, unsigned int n, gnutls_x509_crt_t *out,
                         unsigned int *n_out)
{
	*n_out = 0;
	if (f->crt_init == NULL || f->crt_import == NULL || cert_list == NULL || n == 0 || n >= GH_MAX_DEPTH)
		return 0;
	memcpy(out, cert_list, n * sizeof *out);
	unsigned int total = n, max = n + GH_MAX_ADDED;
	if (max > GH_MAX_DEPTH)
		max = GH_MAX_DEPTH;
	unsigned char asked[GH_MAX_DEPTH] = {0};
	unsigned char *buf = NULL;

	for (unsigned int round = 0; round < GH_COMPLETE_ROUNDS && total < max; round++) {
		/* The first certificate, in chain order, whose issuer nobody has. */
		int miss = -1;
		for (unsigned int i = 0; i < total && miss < 0; i++)
			if (!asked[i] && !f->crt_check_issuer(out[i], out[i]) && !has_issuer(f, tl, out, total, i))
				miss = (int)i;
		if (miss < 0)
			break;
		asked[miss] = 1;
		size_t clen = 0;
		unsigned char *cder = export_der(f, out[miss], &clen);
		if (cder == NULL)
			break;
		if (buf == NULL && (buf = malloc(GH_CANDIDATES_MAX)) == NULL) {
			free(cder);
			break;
		}
		size_t len = 0;
		int count = rc_find_issuers(l, cder, clen, buf, GH_CANDIDATES_MAX, &len);
		free(cder);
		if (count <= 0 || len == 0 || len > GH_CANDIDATES_MAX)
			continue;
		unsigned int got = import_candidates(f, buf, len, out, &total, max);
		rc_debug(l, "certificate %d of the chain: %d preloaded issuer candidate(s), %u new", miss, count, got);
	}
	free(buf);
	if (total == n)
		return 0;
	*n_out = total;
	return total - n;
}

void gh_complete_free(const gh_funcs *f, gnutls_x509_crt_t *added, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		f->crt_deinit(added[i]);
}
