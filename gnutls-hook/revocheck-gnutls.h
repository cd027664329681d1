/*
 * revocheck-gnutls.h — explicit revocation checking for GnuTLS programs
 * that prefer not to preload librevocheck-gnutls.so.
 *
 * Link with -lrevocheck-gnutls-api -lgnutls. The library checks the chains
 * GnuTLS has already validated against the local revocheck cache, through
 * librevocheck.so, which it opens lazily on the first check (a program that
 * never checks never starts the Go runtime). Configuration comes from the
 * revocheck config file ($REVOCHECK_CONFIG or /etc/revocheck/config.toml),
 * $REVOCHECK_CACHE_DIR, $REVOCHECK_LIBRARY, $REVOCHECK_GNUTLS_UNAVAILABLE,
 * $REVOCHECK_GNUTLS_OVERRIDES and revocheck_gnutls_configure().
 *
 * Status bits added for a refused certificate (the same as the preload hook):
 *   revoked                     GNUTLS_CERT_REVOKED | GNUTLS_CERT_INVALID
 *   stale data, policy "deny"   GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED | GNUTLS_CERT_INVALID
 *   other outcome, policy "deny" (not covered, not enrolled, no data, error,
 *   library unavailable)        GNUTLS_CERT_MISSING_OCSP_STATUS | GNUTLS_CERT_INVALID
 *
 * All functions are thread-safe. A process that has checked a certificate
 * and then forks: the child never calls into the Go runtime (it would hang);
 * its checks are answered by the "unavailable" policy (allow unless
 * REVOCHECK_GNUTLS_UNAVAILABLE=deny).
 */
#ifndef REVOCHECK_GNUTLS_H
#define REVOCHECK_GNUTLS_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define REVOCHECK_GNUTLS_API __attribute__((visibility("default")))
#else
#define REVOCHECK_GNUTLS_API
#endif

/*
 * Optional; must come before the first check of the process.
 * config_path: borrowed, NUL-terminated; NULL means the default search.
 * overrides: borrowed, NUL-terminated, may be NULL; "key=value;..." with the
 *   config file's keys, e.g. "policy.not-covered=deny;cache-dir=/srv/cache".
 * Returns GNUTLS_E_SUCCESS, or GNUTLS_E_INVALID_REQUEST if a check already
 * happened (the checker is opened once per process).
 */
REVOCHECK_GNUTLS_API int revocheck_gnutls_configure(const char *config_path, const char *overrides);

/*
 * Installs a verify function on cred (gnutls_certificate_set_verify_function)
 * that, during every handshake using cred, verifies the peer's chain with
 * gnutls_certificate_verify_peers2 and, when GnuTLS accepted it, checks it
 * for revocation: a refused chain fails the handshake with
 * GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR (and one log line on stderr). A
 * chain GnuTLS itself rejects is left to the program's own verification.
 *
 * It replaces any verify function already set on cred, and GnuTLS does not
 * call it for sessions that have their own (gnutls_session_set_verify_cert,
 * gnutls_session_set_verify_function): such programs call
 * revocheck_gnutls_check_session() from their callback instead.
 * cred: borrowed; must outlive its sessions as usual.
 * Returns GNUTLS_E_SUCCESS or GNUTLS_E_INVALID_REQUEST (cred NULL).
 */
REVOCHECK_GNUTLS_API int revocheck_gnutls_install(gnutls_certificate_credentials_t cred);

/*
 * Checks the peer's certificate chain of a session (after the handshake, or
 * in a verify callback), using the trust list of the session's certificate
 * credentials to find the issuer of the last certificate.
 * status: in/out; pass the status GnuTLS gave (gnutls_certificate_verify_peers*).
 *   When it is 0 (chain accepted), the bits above are ORed in for a refused
 *   chain; a non-zero status is left alone (nothing is checked).
 * Returns GNUTLS_E_SUCCESS, GNUTLS_E_INVALID_REQUEST (NULL argument),
 * GNUTLS_E_NO_CERTIFICATE_FOUND (no peer certificate),
 * GNUTLS_E_INSUFFICIENT_CREDENTIALS (no certificate credentials), or an
 * import error.
 */
REVOCHECK_GNUTLS_API int revocheck_gnutls_check_session(gnutls_session_t session, unsigned int *status);

/*
 * Checks a chain that GnuTLS accepted. chain[0] is the end entity; the other
 * elements may come in any order. tl (may be NULL) supplies the issuer of the
 * topmost certificate. chain, tl: borrowed for the call.
 * status: in/out as for revocheck_gnutls_check_session().
 * Returns GNUTLS_E_SUCCESS or GNUTLS_E_INVALID_REQUEST (chain or status NULL,
 * n == 0).
 */
REVOCHECK_GNUTLS_API int revocheck_gnutls_check_chain(gnutls_x509_trust_list_t tl,
                                                      const gnutls_x509_crt_t *chain,
                                                      unsigned int n, unsigned int *status);

#ifdef __cplusplus
}
#endif

#endif /* REVOCHECK_GNUTLS_H */
