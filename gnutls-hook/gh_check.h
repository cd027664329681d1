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
 * Checks the path GnuTLS validated: chain[0] is the end entity; every other
 * element (any order) and the trust list may supply issuers. Each
 * certificate up to the one a trust anchor issued is checked against its
 * issuer; self-issued certificates (roots) are not. Returns the status bits
 * to OR into the verification output (0: nothing refused).
 * chain, tl: borrowed for the call.
 */
unsigned int gh_check_chain(rc_loader *l, const gh_funcs *f, gnutls_x509_trust_list_t tl,
                            const gnutls_x509_crt_t *chain, unsigned int n);

/* Applies REVOCHECK_GNUTLS_UNAVAILABLE, REVOCHECK_GNUTLS_OVERRIDES and
 * REVOCHECK_GNUTLS_SYSLOG to a freshly initialised loader. */
void gh_configure_from_env(rc_loader *l);

/* Splits "k=v;k=v" (';' or newline separated) into loader overrides; what
 * names the source in log lines. */
void gh_add_overrides(rc_loader *l, const char *s, const char *what);

/* 1 when REVOCHECK_GNUTLS_DISABLE is set to anything but "" or "0". */
int gh_disabled_by_env(void);

#endif /* GH_CHECK_H */
