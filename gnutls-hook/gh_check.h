/*
 * gh_check.h — the revocation walk over a chain GnuTLS has already
 * validated. Shared by the preload hook (GnuTLS functions found with
 * dlvsym at call time, no link to libgnutls) and the opt-in API library
 * (linked to libgnutls): each fills a gh_funcs table its own way.
 */
#ifndef GH_CHECK_H
#define GH_CHECK_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "rc_loader.h"

/* GnuTLS functions the walk needs. __typeof__ of the real declarations, so
 * a wrong signature does not compile; taking the type references nothing. */
typedef struct gh_funcs {
	__typeof__(&gnutls_x509_crt_check_issuer) crt_check_issuer;
	__typeof__(&gnutls_x509_trust_list_get_issuer) tl_get_issuer;
	__typeof__(&gnutls_x509_crt_deinit) crt_deinit;
	__typeof__(&gnutls_x509_crt_export) crt_export;
	/* Chain completion only (gh_complete.c); NULL in the API library. */
	__typeof__(&gnutls_x509_crt_init) crt_init;
	__typeof__(&gnutls_x509_crt_import) crt_import;
} gh_funcs;

/*
 * Status bits added for a certificate the policy refuses:
 *  - revoked: GNUTLS_CERT_REVOKED | GNUTLS_CERT_INVALID, as GnuTLS's own CRL
 *    check ("has been revoked" in wget, "The certificate chain is revoked"
 *    in gnutls-cli).
 *  - stale data refused by policy.stale: GNUTLS_CERT_INVALID |
 *    GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED ("the revocation data are old").
 *  - any other refusal (not covered, not enrolled, no data, error, library
 *    unavailable under REVOCHECK_GNUTLS_UNAVAILABLE=deny):
 *    GNUTLS_CERT_INVALID | GNUTLS_CERT_MISSING_OCSP_STATUS, GnuTLS's only bit
 *    for "a required revocation status is missing".
 */
#define GH_STATUS_REVOKED (GNUTLS_CERT_REVOKED | GNUTLS_CERT_INVALID)
#define GH_STATUS_STALE (GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED | GNUTLS_CERT_INVALID)
#define GH_STATUS_NO_STATUS (GNUTLS_CERT_MISSING_OCSP_STATUS | GNUTLS_CERT_INVALID)
/*
 * policy.ct = enforce refused the certificate (ct_noncompliant): GnuTLS has
 * no CT bit. GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE says what happened:
 * the certificate does not meet a requirement its issuer is held to (a
 * publicly trusted CA's certificates must be logged). gnutls-cli prints
 * "The certificate chain violates the signer's constraints.", wget "is not
 * trusted"; neither suggests a revocation or a missing OCSP response.
 */
#define GH_STATUS_CT (GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE | GNUTLS_CERT_INVALID)

/* Longest path walked; GnuTLS's own DEFAULT_MAX_VERIFY_DEPTH is 16. */
#define GH_MAX_DEPTH 16

/*
 * The links of the verified path, as GnuTLS itself verified them: the hook
 * passes GnuTLS a verify-output callback (gnutls_verify_output_function)
 * that records every (certificate, issuer) pair whose verification output
 * was 0, wherever GnuTLS found the issuer — the presented chain, the trust
 * list, a PKCS#11 trust module, the application's getissuer callback or the
 * preloaded intermediates. DER copies on the heap, bounded.
 */
#define GH_MAX_LINKS 32
#define GH_LINK_DER_MAX (64 * 1024)
typedef struct gh_links {
	unsigned int n;
	struct {
		unsigned char *cert, *issuer; /* owned (malloc) */
		size_t cert_len, issuer_len;
	} v[GH_MAX_LINKS];
} gh_links;

/* Records cert -> issuer (borrowed) when issuer issued cert and cert is not
 * self-issued; duplicates and links past the bounds are dropped. */
void gh_links_record(gh_links *ls, const gh_funcs *f, gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer);
/* Frees the copies; ls is empty again. */
void gh_links_free(gh_links *ls);

/*
 * Checks the path GnuTLS validated: chain[0] is the end entity. When links
 * (may be NULL) holds GnuTLS's own verified links from chain[0] upwards,
 * every certificate of that path is checked against the issuer GnuTLS
 * verified it with. Otherwise every other element of chain (any order) and
 * the trust list may supply issuers. Each certificate up to the one a trust
 * anchor issued is checked against its issuer; self-issued certificates
 * (roots) are not. Returns the status bits to OR into the verification
 * output (0: nothing refused). chain, tl, links: borrowed for the call.
 */
unsigned int gh_check_chain(rc_loader *l, const gh_funcs *f, gnutls_x509_trust_list_t tl,
                            const gnutls_x509_crt_t *chain, unsigned int n, const gh_links *links);

/*
 * Chain completion (gh_complete.c): when the chain GnuTLS was given lacks
 * an issuer that neither the chain nor the trust list has, asks
 * rc_find_issuers for candidates (up to GH_COMPLETE_ROUNDS rounds, when a
 * candidate itself lacks its issuer) and writes cert_list followed by the
 * candidates, imported, into out (at most GH_MAX_DEPTH). Candidates are
 * only ever presented as untrusted chain elements: GnuTLS's own path
 * building and signature checks decide. Returns the number of candidates
 * added (0: nothing to retry with); *n_out is the new chain's length.
 * Release with gh_complete_free(f, out + n, added).
 */
#define GH_COMPLETE_ROUNDS 4
unsigned int gh_complete(rc_loader *l, const gh_funcs *f, gnutls_x509_trust_list_t tl,
                         const gnutls_x509_crt_t *cert_list, unsigned int n, gnutls_x509_crt_t *out,
                         unsigned int *n_out);
void gh_complete_free(const gh_funcs *f, gnutls_x509_crt_t *added, unsigned int n);

/* Applies REVOCHECK_GNUTLS_UNAVAILABLE, REVOCHECK_GNUTLS_OVERRIDES and
 * REVOCHECK_GNUTLS_SYSLOG to a freshly initialised loader. */
void gh_configure_from_env(rc_loader *l);

/* Splits "k=v;k=v" (';' or newline separated) into loader overrides; what
 * names the source in log lines. */
void gh_add_overrides(rc_loader *l, const char *s, const char *what);

/* 1 when REVOCHECK_GNUTLS_DISABLE is set to anything but "" or "0". */
int gh_disabled_by_env(void);

#endif /* GH_CHECK_H */
