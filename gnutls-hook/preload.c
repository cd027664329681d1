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
	int complete_ok; /* crt_init/crt_import found: chains can be completed */
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
	/* Completion only; without them chains are verified as given. */
	*(void **)(&gh.funcs.crt_init) = gnutls_sym("gnutls_x509_crt_init");
	*(void **)(&gh.funcs.crt_import) = gnutls_sym("gnutls_x509_crt_import");
	gh.complete_ok = ok && gh.funcs.crt_init != NULL && gh.funcs.crt_import != NULL;

	if (gh.real == NULL)
		rc_log(&gh.loader, "the real gnutls_x509_trust_list_verify_crt2 was not found; "
		                   "verification fails");
	else if (!ok)
		rc_log(&gh.loader, "GnuTLS certificate functions not found; revocation is not checked");
	else if (gh.disabled)
		rc_debug(&gh.loader, "disabled by REVOCHECK_GNUTLS_DISABLE");
}

/*
 * The verified path's links (gh_links): the real function is given
 * gh_record as its verify-output callback, which records each link GnuTLS
 * verified into the calling thread's current recorder and then calls the
 * application's own callback, if any. A recorder lives on the interposer's
 * stack for one call; nested verifications (from the application's
 * callback) save and restore the pointer.
 */
typedef struct gh_recorder {
	gh_links links;
	gnutls_verify_output_function *app;
} gh_recorder;

/* initial-exec: a preloaded library gets static TLS, and the default
 * (global-dynamic) model would add a DT_NEEDED on ld-linux for
 * __tls_get_addr; the preload library links libc only. */
static __thread gh_recorder *gh_rec __attribute__((tls_model("initial-exec")));

static int gh_record(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer, gnutls_x509_crl_t crl,
                     unsigned int verification_output)
{
	gh_recorder *r = gh_rec;
	if (r == NULL)
		return 0;
	/* CRL checks report (cert, issuer, crl): not a path link. */
	if (crl == NULL && verification_output == 0)
		gh_links_record(&r->links, &gh.funcs, cert, issuer);
	return r->app != NULL ? r->app(cert, issuer, crl, verification_output) : 0;
}

static int call_real(gh_recorder *rec, gnutls_x509_trust_list_t list, gnutls_x509_crt_t *cert_list,
                     unsigned int n, gnutls_typed_vdata_st *data, unsigned int elements, unsigned int flags,
                     unsigned int *voutput)
{
	gh_recorder *prev = gh_rec;
	gh_rec = rec;
	int ret = gh.real(list, cert_list, n, data, elements, flags, voutput, gh_record);
	gh_rec = prev;
	return ret;
}

/*
 * Chain completion: GnuTLS found no signer for the chain as given. Retry
 * once with the preloaded intermediates that may issue its missing
 * certificates appended as untrusted chain elements (gh_complete); GnuTLS's
 * own path building and signature checks decide. Only a retry that
 * verifies replaces the first result; otherwise the host gets the answer
 * it had without revocheck. Returns 1 when the completed chain verified,
 * with *voutput updated and out[0..*n_out) the chain to check (the caller
 * frees the candidates with gh_complete_free).
 */
static int try_completion(gh_recorder *rec, gnutls_x509_trust_list_t list, gnutls_x509_crt_t *cert_list,
                          unsigned int n, gnutls_typed_vdata_st *data, unsigned int elements, unsigned int flags,
                          unsigned int *voutput, gnutls_x509_crt_t *out, unsigned int *n_out,
                          unsigned int *added)
{
	*added = gh_complete(&gh.loader, &gh.funcs, list, cert_list, n, out, n_out);
	if (*added == 0)
		return 0;
	unsigned int v2 = 0;
	int r2 = call_real(rec, list, out, *n_out, data, elements, flags, &v2);
	rc_debug(&gh.loader, "chain completed with %u preloaded intermediate(s): GnuTLS %s (status 0x%x)", *added,
	         r2 == 0 && v2 == 0 ? "accepts it" : "still refuses it", v2);
	if (r2 != 0 || v2 != 0)
		return 0;
	*voutput = 0;
	return 1;
}

int gh_verify_crt2(gnutls_x509_trust_list_t list, gnutls_x509_crt_t *cert_list,
                   unsigned int cert_list_size, gnutls_typed_vdata_st *data, unsigned int elements,
                   unsigned int flags, unsigned int *voutput, gnutls_verify_output_function func)
{
	pthread_once(&gh.once, gh_init);
	if (gh.real == NULL)
		return GNUTLS_E_INTERNAL_ERROR; /* cannot verify at all: fail closed */

	/* A caller that turned revocation checks off (as for GnuTLS's own
	 * CRLs) is obeyed, and gets GnuTLS unchanged. */
	if (voutput == NULL || gh.disabled || !gh.funcs_ok || (flags & GNUTLS_VERIFY_DISABLE_CRL_CHECKS))
		return gh.real(list, cert_list, cert_list_size, data, elements, flags, voutput, func);

	gh_recorder rec = {.links = {.n = 0}, .app = func};
	int ret = call_real(&rec, list, cert_list, cert_list_size, data, elements, flags, voutput);

	gnutls_x509_crt_t completed[GH_MAX_DEPTH];
	unsigned int n_completed = 0, added = 0;
	gnutls_x509_crt_t *chain = cert_list;
	unsigned int n = cert_list_size;
	if (ret == 0 && (*voutput & GNUTLS_CERT_SIGNER_NOT_FOUND) && gh.complete_ok && cert_list != NULL &&
	    cert_list_size > 0 && cert_list_size < GH_MAX_DEPTH &&
	    try_completion(&rec, list, cert_list, cert_list_size, data, elements, flags, voutput, completed,
	                   &n_completed, &added)) {
		chain = completed;
		n = n_completed;
	}

	/* Only a chain GnuTLS accepted is worth asking about. */
	if (ret == 0 && *voutput == 0)
		*voutput |= gh_check_chain(&gh.loader, &gh.funcs, list, chain, n, &rec.links);

	if (added > 0)
		gh_complete_free(&gh.funcs, completed + cert_list_size, added);
	gh_links_free(&rec.links);
	return ret;
}
