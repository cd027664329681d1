/*
 * preload.c — librevocheck-gnutls.so, the GnuTLS verify hook.
 *
 * Loaded with LD_PRELOAD or /etc/ld.so.preload, it defines
 * gnutls_x509_trust_list_verify_crt2@@GNUTLS_3_4. libgnutls calls that
 * function through its own PLT from gnutls_certificate_verify_peers{,2,3},
 * gnutls_x509_trust_list_verify_crt, the handshake's auto-verification and
 * the OCSP/PKCS#7 signer checks, so this one definition sees every chain
 * GnuTLS validates against a trust list. It calls the real function and,
 * when the chain passed, checks it for revocation (gh_check.c).
 *
 * Safe in every process: no DT_NEEDED on libgnutls or librevocheck, no
 * constructor. Nothing happens until GnuTLS itself calls in; GnuTLS
 * functions are found with dlvsym at that point and librevocheck.so is
 * opened by rc_loader on the first check.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "gh_check.h"

#define GH_GNUTLS_VERSION "GNUTLS_3_4"
#define GH_GNUTLS_SONAME "libgnutls.so.30"

typedef __typeof__(&gnutls_x509_trust_list_verify_crt2) verify_crt2_fn;

/* Process-wide state, written once under pthread_once, then read-only
 * (the loader has its own lock). */
static struct {
	pthread_once_t once;
	verify_crt2_fn real;
	gh_funcs funcs;
	int funcs_ok;
	int disabled;
	rc_loader loader;
} gh = {.once = PTHREAD_ONCE_INIT};

/* The interposer, exported as gnutls_x509_trust_list_verify_crt2 with
 * GnuTLS's version node (see revocheck-gnutls.map): libgnutls's PLT
 * reference is versioned and binds only to a definition of that version. */
int gh_verify_crt2(gnutls_x509_trust_list_t list, gnutls_x509_crt_t *cert_list,
                   unsigned int cert_list_size, gnutls_typed_vdata_st *data, unsigned int elements,
                   unsigned int flags, unsigned int *voutput, gnutls_verify_output_function func)
	__attribute__((visibility("default")));
__asm__(".symver gh_verify_crt2, gnutls_x509_trust_list_verify_crt2@@" GH_GNUTLS_VERSION);

/* A GnuTLS function of our version node, from the next object in the
 * lookup order (libgnutls when preloaded) or else from an already loaded
 * libgnutls (RTLD_NOLOAD: this never loads GnuTLS into a process). */
static void *gnutls_sym(const char *name)
{
	void *p = dlvsym(RTLD_NEXT, name, GH_GNUTLS_VERSION);
	if (p != NULL)
		return p;
	void *h = dlopen(GH_GNUTLS_SONAME, RTLD_LAZY | RTLD_NOLOAD);
	if (h == NULL)
		return NULL;
	p = dlvsym(h, name, GH_GNUTLS_VERSION);
	dlclose(h); /* drops only the reference RTLD_NOLOAD took */
	return p;
}

#define GH_RESOLVE(field, name)                                  \
	do {                                                     \
		*(void **)(&gh.funcs.field) = gnutls_sym(name);  \
		ok = ok && gh.funcs.field != NULL;               \
	} while (0)

static void gh_init(void)
{
	rc_loader_init(&gh.loader, "gnutls-hook");
	gh_configure_from_env(&gh.loader);
	gh.disabled = gh_disabled_by_env();

	void *real = gnutls_sym("gnutls_x509_trust_list_verify_crt2");
	if (real == (void *)gh_verify_crt2)
		real = NULL; /* never call ourselves */
	*(void **)(&gh.real) = real;

	int ok = 1;
	GH_RESOLVE(crt_check_issuer, "gnutls_x509_crt_check_issuer");
	GH_RESOLVE(tl_get_issuer, "gnutls_x509_trust_list_get_issuer");
	GH_RESOLVE(crt_deinit, "gnutls_x509_crt_deinit");
	GH_RESOLVE(crt_export, "gnutls_x509_crt_export");
	gh.funcs_ok = ok;

	if (gh.real == NULL)
		rc_log(&gh.loader, "the real gnutls_x509_trust_list_verify_crt2 was not found; "
		                   "verification fails");
	else if (!ok)
		rc_log(&gh.loader, "GnuTLS certificate functions not found; revocation is not checked");
	else if (gh.disabled)
		rc_debug(&gh.loader, "disabled by REVOCHECK_GNUTLS_DISABLE");
}

int gh_verify_crt2(gnutls_x509_trust_list_t list, gnutls_x509_crt_t *cert_list,
                   unsigned int cert_list_size, gnutls_typed_vdata_st *data, unsigned int elements,
                   unsigned int flags, unsigned int *voutput, gnutls_verify_output_function func)
{
	pthread_once(&gh.once, gh_init);
	if (gh.real == NULL)
		return GNUTLS_E_INTERNAL_ERROR; /* cannot verify at all: fail closed */

	int ret = gh.real(list, cert_list, cert_list_size, data, elements, flags, voutput, func);
	/* Only a chain GnuTLS accepted is worth asking about; a caller that
	 * turned revocation checks off (as for GnuTLS's own CRLs) is obeyed. */
	if (ret != 0 || voutput == NULL || *voutput != 0 || gh.disabled || !gh.funcs_ok ||
	    (flags & GNUTLS_VERIFY_DISABLE_CRL_CHECKS))
		return ret;

	*voutput |= gh_check_chain(&gh.loader, &gh.funcs, list, cert_list, cert_list_size);
	return ret;
}
