/*
 * api.c — librevocheck-gnutls-api.so, the explicit opt-in API
 * (revocheck-gnutls.h). Unlike the preload hook it links libgnutls: only
 * programs that ask for it load it.
 */
#include "revocheck-gnutls.h"

#include <pthread.h>
#include <stddef.h>

#include "gh_check.h"

static const gh_funcs api_funcs = {
	.crt_check_issuer = gnutls_x509_crt_check_issuer,
	.tl_get_issuer = gnutls_x509_trust_list_get_issuer,
	.crt_deinit = gnutls_x509_crt_deinit,
	.crt_export = gnutls_x509_crt_export,
};

/* Process-wide: the loader, configured from the environment once, and
 * whether a check has started (configure is refused afterwards). */
static struct {
	pthread_once_t once;
	pthread_mutex_t lock;
	int started;
	rc_loader loader;
} api = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER};

static void api_init(void)
{
	rc_loader_init(&api.loader, "gnutls-api");
	gh_configure_from_env(&api.loader);
}

static rc_loader *loader_for_check(void)
{
	pthread_once(&api.once, api_init);
	if (!__atomic_load_n(&api.started, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&api.lock);
		__atomic_store_n(&api.started, 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&api.lock);
	}
	return &api.loader;
}

int revocheck_gnutls_configure(const char *config_path, const char *overrides)
{
	pthread_once(&api.once, api_init);
	pthread_mutex_lock(&api.lock);
	int ret = GNUTLS_E_INVALID_REQUEST;
	if (!api.started) {
		if (config_path != NULL)
			rc_loader_set_config(&api.loader, config_path);
		if (overrides != NULL)
			gh_add_overrides(&api.loader, overrides, "revocheck_gnutls_configure overrides");
		ret = GNUTLS_E_SUCCESS;
	}
	pthread_mutex_unlock(&api.lock);
	return ret;
}

int revocheck_gnutls_check_chain(gnutls_x509_trust_list_t tl, const gnutls_x509_crt_t *chain,
                                 unsigned int n, unsigned int *status)
{
	if (chain == NULL || n == 0 || status == NULL)
		return GNUTLS_E_INVALID_REQUEST;
	if (*status != 0)
		return GNUTLS_E_SUCCESS; /* GnuTLS refused it already */
	*status |= gh_check_chain(loader_for_check(), &api_funcs, tl, chain, n, NULL);
	return GNUTLS_E_SUCCESS;
}

int revocheck_gnutls_check_session(gnutls_session_t session, unsigned int *status)
{
	if (session == NULL || status == NULL)
		return GNUTLS_E_INVALID_REQUEST;
	if (*status != 0)
		return GNUTLS_E_SUCCESS;

	unsigned int n = 0;
	const gnutls_datum_t *raw = gnutls_certificate_get_peers(session, &n);
	if (raw == NULL || n == 0)
		return GNUTLS_E_NO_CERTIFICATE_FOUND;
	if (n > GH_MAX_DEPTH)
		n = GH_MAX_DEPTH;

	gnutls_certificate_credentials_t cred = NULL;
	if (gnutls_credentials_get(session, GNUTLS_CRD_CERTIFICATE, (void **)&cred) < 0 || cred == NULL)
		return GNUTLS_E_INSUFFICIENT_CREDENTIALS;
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_certificate_get_trust_list(cred, &tl);

	gnutls_x509_crt_t chain[GH_MAX_DEPTH];
	unsigned int got = 0;
	int ret = GNUTLS_E_SUCCESS;
	for (; got < n; got++) {
		ret = gnutls_x509_crt_init(&chain[got]);
		if (ret < 0)
			break;
		ret = gnutls_x509_crt_import(chain[got], &raw[got], GNUTLS_X509_FMT_DER);
		if (ret < 0) {
			gnutls_x509_crt_deinit(chain[got]);
			break;
		}
	}
	if (ret == GNUTLS_E_SUCCESS)
		*status |= gh_check_chain(loader_for_check(), &api_funcs, tl, chain, got, NULL);
	for (unsigned int i = 0; i < got; i++)
		gnutls_x509_crt_deinit(chain[i]);
	return ret;
}

/* The function revocheck_gnutls_install sets on a credential. GnuTLS calls
 * it once the peer's certificates are in; 0 continues the handshake. */
static int api_verify(gnutls_session_t session)
{
	unsigned int status = 0;
	if (gnutls_certificate_verify_peers2(session, &status) < 0 || status != 0)
		return 0; /* not accepted by GnuTLS: the program's own check decides */
	int ret = revocheck_gnutls_check_session(session, &status);
	if (ret < 0 || status == 0)
		return 0;
	rc_log(&api.loader, "refusing the peer's certificate chain: %s",
	       (status & GNUTLS_CERT_REVOKED) ? "a certificate is revoked"
	                                      : "revocation status refused by policy");
	return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
}

int revocheck_gnutls_install(gnutls_certificate_credentials_t cred)
{
	if (cred == NULL)
		return GNUTLS_E_INVALID_REQUEST;
	gnutls_certificate_set_verify_function(cred, api_verify);
	return GNUTLS_E_SUCCESS;
}
