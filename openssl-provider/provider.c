/*
 * provider.c — the OpenSSL 3 provider "revocheck": entry point, parameters
 * shown by `openssl list -providers -verbose`, and the settings of the
 * provider's openssl.cnf section, passed through to the library unparsed
 * (it decides and reports; this file reads no configuration file).
 *
 * The provider offers no algorithms (query_operation answers NULL). Its only
 * job at init is to read its section and register the X509_STORE_CTX hook
 * (hook.c). librevocheck.so is NOT loaded here: a process that never verifies
 * a certificate never starts the Go runtime; rc_loader loads it on the first
 * check.
 */
#include "rcossl.h"
#include "rc_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/opensslv.h>
#include <openssl/params.h>

#ifndef REVOCHECK_VERSION
#define REVOCHECK_VERSION "unknown"
#endif

#define RCOSSL_NAME "revocheck revocation checking provider"

rcossl_state rcossl = {.ex_index = -1};

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int status_logged;

/* ---- configuration ---------------------------------------------------- */

/* The provider's own settings (what only the adapter needs: where the
 * library and the daemon are, where it logs, what it answers when neither
 * can). Every other key is revocheck's (rc_keys.h), passed through. */
enum { P_CONFIG, P_LIBRARY, P_UNAVAILABLE, P_LOG, P_SOCKET, P_OWN };
static const char *const own_keys[P_OWN] = {"config", "library", "unavailable", "log", "socket"};

/* Reads the provider's section through core_get_params: every key of the
 * section that OpenSSL does not use itself (module, activate...) is a
 * provider parameter, a UTF-8 string, asked for by name. revocheck's keys
 * are passed to the library unread; a policy.<key> may also be written
 * <key> (a nested `policy = <section>` in openssl.cnf yields policy.<key>),
 * and the plain one wins when both are set. */
static void configure(const OSSL_CORE_HANDLE *handle, OSSL_FUNC_core_get_params_fn *get_params)
{
	enum { MAXP = P_OWN + 2 * RC_CONFIG_KEYS_MAX };
	char names[RC_CONFIG_KEYS_MAX][64];
	int full[RC_CONFIG_KEYS_MAX], plain[RC_CONFIG_KEYS_MAX], nk = 0, n = 0;
	const char *val[MAXP] = {0};
	OSSL_PARAM params[MAXP + 1];
	for (; n < P_OWN; n++)
		params[n] = OSSL_PARAM_construct_utf8_ptr(own_keys[n], (char **)&val[n], 0);
	for (const char *p = RC_CONFIG_KEYS; *p != '\0' && nk < RC_CONFIG_KEYS_MAX;) {
		size_t len = strcspn(p, " ");
		if (len > 0 && len < sizeof names[nk]) {
			memcpy(names[nk], p, len);
			names[nk][len] = '\0';
			full[nk] = n;
			params[n] = OSSL_PARAM_construct_utf8_ptr(names[nk], (char **)&val[n], 0);
			n++;
			plain[nk] = -1;
			if (strncmp(names[nk], "policy.", 7) == 0) {
				plain[nk] = n;
				params[n] = OSSL_PARAM_construct_utf8_ptr(names[nk] + 7, (char **)&val[n], 0);
				n++;
			}
			nk++;
		}
		p += len + (p[len] == ' ');
	}
	params[n] = OSSL_PARAM_construct_end();
	if (get_params == NULL || !get_params(handle, params)) {
		rc_log(&rcossl.loader, "could not read the provider's configuration; using defaults");
		return;
	}

	rc_loader *l = &rcossl.loader;
	if (val[P_LOG] != NULL) {
		if (strcmp(val[P_LOG], "syslog") == 0)
			l->use_syslog = 1;
		else if (strcmp(val[P_LOG], "stderr") != 0)
			rc_log(l, "ignoring log = %s (want stderr or syslog)", val[P_LOG]);
	}
	if (val[P_LIBRARY] != NULL && *val[P_LIBRARY] != '\0')
		rc_loader_set_library(l, val[P_LIBRARY]);
	if (val[P_CONFIG] != NULL)
		rc_loader_set_config(l, val[P_CONFIG]);
	if (val[P_SOCKET] != NULL)
		rc_loader_set_socket(l, val[P_SOCKET]);
	/* The adapter's own setting: it applies when the library cannot. */
	if (val[P_UNAVAILABLE] != NULL) {
		if (strcmp(val[P_UNAVAILABLE], "allow") == 0 || strcmp(val[P_UNAVAILABLE], "deny") == 0)
			l->unavailable_allow = strcmp(val[P_UNAVAILABLE], "allow") == 0;
		else
			rc_log(l, "ignoring unavailable = %s (want allow or deny)", val[P_UNAVAILABLE]);
	}
	/* The value is the library's to judge: a bad one keeps its default
	 * and revocheck_open reports it (one line, rc_loader). An empty one
	 * is not set. */
	for (int k = 0; k < nk; k++) {
		const char *v = plain[k] >= 0 && val[plain[k]] != NULL ? val[plain[k]] : val[full[k]];
		if (v != NULL && *v != '\0')
			rc_loader_add_override(l, names[k], v);
	}
	rcossl.configured = 1;
}

/* ---- status ----------------------------------------------------------- */

/* Fills msg with a one-line state; returns 1 when revocation checks can
 * work. The state is the library's or the daemon's (rc_state): this file
 * knows no configuration file, default or precedence. */
static int provider_status(char *msg, size_t size)
{
	return rc_state(&rcossl.loader, msg, size);
}

/* ---- provider functions ----------------------------------------------- */

static const OSSL_PARAM gettable[] = {
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN("revocheck-state", OSSL_PARAM_UTF8_STRING, NULL, 0),
    OSSL_PARAM_END};

static const OSSL_PARAM *rcossl_gettable_params(void *provctx)
{
	(void)provctx;
	return gettable;
}

static int rcossl_get_params(void *provctx, OSSL_PARAM params[])
{
	(void)provctx;
	/* Static: OSSL_PROV_PARAM_BUILDINFO is returned as a pointer. */
	static char buildinfo[RC_PATH_MAX + 256];
	char state[RC_PATH_MAX + 128];
	OSSL_PARAM *p;
	int ok = provider_status(state, sizeof state);

	/* Activation failures are silent in OpenSSL; say it once. No data yet
	 * is a normal state (syslog); a broken installation is said on stderr. */
	if (!ok && strncmp(state, "no revocation data", 18) == 0)
		rc_notice(&rcossl.loader, RC_NOTE_STATUS, "provider active but revocation checks cannot work: %s",
		          state);
	else if (!ok && !__atomic_exchange_n(&status_logged, 1, __ATOMIC_ACQ_REL))
		rc_log(&rcossl.loader, "provider active but revocation checks cannot work: %s", state);

	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
	if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, RCOSSL_NAME))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
	if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, REVOCHECK_VERSION))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO);
	if (p != NULL) {
		pthread_mutex_lock(&init_lock);
		snprintf(buildinfo, sizeof buildinfo, "revocheck %s for %s; %s", REVOCHECK_VERSION,
		         OPENSSL_VERSION_TEXT, state);
		int set = OSSL_PARAM_set_utf8_ptr(p, buildinfo);
		pthread_mutex_unlock(&init_lock);
		if (!set)
			return 0;
	}
	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
	if (p != NULL && !OSSL_PARAM_set_int(p, ok))
		return 0;
	p = OSSL_PARAM_locate(params, "revocheck-state");
	if (p != NULL && !OSSL_PARAM_set_utf8_string(p, state))
		return 0;
	return 1;
}

/* No algorithms: the provider exists for its X509_STORE_CTX hook. */
static const OSSL_ALGORITHM *rcossl_query(void *provctx, int operation_id, int *no_cache)
{
	(void)provctx;
	(void)operation_id;
	*no_cache = 0;
	return NULL;
}

static void rcossl_teardown(void *provctx)
{
	(void)provctx;
	/* The last instance makes the hook idle. The library stays loaded and
	 * open: a Go runtime cannot be unloaded, and contexts wrapped earlier
	 * may still verify. */
	__atomic_sub_fetch(&rcossl.active, 1, __ATOMIC_ACQ_REL);
}

static const OSSL_DISPATCH rcossl_dispatch[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))rcossl_teardown},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))rcossl_gettable_params},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))rcossl_get_params},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))rcossl_query},
    {0, NULL}};

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                       const OSSL_DISPATCH **out, void **provctx);

__attribute__((visibility("default"))) int OSSL_provider_init(const OSSL_CORE_HANDLE *handle,
                                                              const OSSL_DISPATCH *in,
                                                              const OSSL_DISPATCH **out,
                                                              void **provctx)
{
	OSSL_FUNC_core_get_params_fn *get_params = NULL;
	for (; in != NULL && in->function_id != 0; in++) {
		if (in->function_id == OSSL_FUNC_CORE_GET_PARAMS)
			get_params = OSSL_FUNC_core_get_params(in);
	}

	pthread_mutex_lock(&init_lock);
	if (!rcossl.configured) {
		if (rcossl.loader.component == NULL)
			rc_loader_init(&rcossl.loader, "openssl-provider");
		/* Settings are taken once: the loader may already be in use. */
		if (__atomic_load_n(&rcossl.loader.state, __ATOMIC_ACQUIRE) == 0)
			configure(handle, get_params);
	}
	int hooked = rcossl_hook_register();
	/* Without completion, chains are verified as presented (as before). */
	int completing = hooked && rcossl_complete_register();
	pthread_mutex_unlock(&init_lock);
	if (!hooked) {
		rc_log(&rcossl.loader, "could not register the X509_STORE_CTX hook; not checking");
		return 0;
	}
	if (!completing)
		rc_debug(&rcossl.loader, "could not register chain completion");
	__atomic_add_fetch(&rcossl.active, 1, __ATOMIC_ACQ_REL);
	rc_debug(&rcossl.loader, "provider initialised (overrides \"%s\")", rcossl.loader.overrides);
	*out = rcossl_dispatch;
	*provctx = &rcossl;
	return 1;
}
