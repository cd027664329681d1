/*
 * hook.c — "context mode": revocation checking for every X509_STORE_CTX.
 *
 * OpenSSL calls the new_func of every registered X509_STORE_CTX ex_data
 * index at the end of X509_STORE_CTX_init, when ctx->verify and the
 * application's verify callback are already in place. There we replace
 * ctx->verify (the step that checks signatures and validity times of the
 * built chain) with a wrapper and keep the original in our ex_data slot.
 *
 * verify_chain() runs, in this order: chain building, extension checks,
 * OpenSSL's own CRL check (check_revocation, --crlfile / X509_V_FLAG_CRL_CHECK),
 * then ctx->verify. So by the time the wrapper runs, OpenSSL has already done
 * everything it would have done without us; the wrapper calls the original
 * verify first and only then asks librevocheck about each certificate of the
 * chain that has its issuer in the chain. A refusal goes through the
 * application's verify callback exactly like OpenSSL's own errors do, so
 * `curl -k`, SSL_VERIFY_NONE and callbacks that accept errors keep working.
 *
 * The ex_data slot stores a function pointer and nothing is allocated, so
 * the index needs no dup_func (an X509_STORE_CTX cannot be duplicated) and
 * no free_func.
 */
#include "rcossl.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

/* Certificates up to this size are encoded on the stack. */
#define RCOSSL_STACK_DER 3072

static pthread_once_t hook_once = PTHREAD_ONCE_INIT;

/* ex_data holds void *; a union converts the function pointer without
 * relying on a pointer cast between object and function types. */
typedef union {
	X509_STORE_CTX_verify_fn fn;
	void *ptr;
} verify_slot;

static int rcossl_verify(X509_STORE_CTX *ctx);

/* A DER encoding, on the stack when it fits. */
typedef struct {
	unsigned char stack[RCOSSL_STACK_DER];
	unsigned char *der;
	size_t len;
} der_buf;

static int der_encode(X509 *x, der_buf *b)
{
	b->der = NULL;
	int n = i2d_X509(x, NULL);
	if (n <= 0)
		return 0;
	unsigned char *p = (size_t)n <= sizeof b->stack ? b->stack : OPENSSL_malloc((size_t)n);
	if (p == NULL)
		return 0;
	b->der = p;
	if (i2d_X509(x, &p) != n) { /* i2d advances p */
		if (b->der != b->stack)
			OPENSSL_free(b->der);
		b->der = NULL;
		return 0;
	}
	b->len = (size_t)n;
	return 1;
}

static void der_free(der_buf *b)
{
	if (b->der != NULL && b->der != b->stack)
		OPENSSL_free(b->der);
	b->der = NULL;
}

/*
 * policy.ct = enforce refused the certificate: its embedded SCTs do not
 * satisfy the CT policy. X509_V_ERR_NO_VALID_SCTS is the error OpenSSL's
 * own CT check gives (SSL_CT_VALIDATION_STRICT, "verify error:num=71:no
 * valid SCTs"): the same meaning, reported the same way, so what an
 * application shows for OpenSSL's CT enforcement it shows for ours.
 */
static int ct_error(void)
{
	return X509_V_ERR_NO_VALID_SCTS;
}

/*
 * The X509 error reported for a refusal. Revoked is the native revocation
 * error. For the other outcomes a policy denies (no data, not covered, not
 * enrolled, error, library unavailable) "unable to get certificate CRL" is
 * what OpenSSL itself reports when revocation status cannot be established;
 * stale data maps to "CRL has expired", the closest native meaning; a
 * certificate failing the CT policy (ct_error) to "no valid SCTs".
 */
static int refusal_error(int32_t outcome)
{
	switch (outcome) {
	case REVOCHECK_OUTCOME_REVOKED:
		return X509_V_ERR_CERT_REVOKED;
	case REVOCHECK_OUTCOME_STALE:
		return X509_V_ERR_CRL_HAS_EXPIRED;
	case REVOCHECK_OUTCOME_CT_NONCOMPLIANT:
		return ct_error();
	default:
		return X509_V_ERR_UNABLE_TO_GET_CRL;
	}
}

/* The library answered without usable data (no cache yet, stale data, an
 * error): states a working system passes through, so syslog, once per
 * process per state, never the host's stderr (rc_notice). */
static void note_outcome(const revocheck_result *res)
{
	int32_t o = res->outcome;
	unsigned state = o == REVOCHECK_OUTCOME_NO_DATA ? RC_NOTE_NO_DATA
	                 : o == REVOCHECK_OUTCOME_STALE ? RC_NOTE_STALE
	                 : o == REVOCHECK_OUTCOME_ERROR ? RC_NOTE_ERROR
	                                                : 0;
	if (state == 0 || (__atomic_load_n(&rcossl.loader.noted, __ATOMIC_ACQUIRE) & state))
		return;
	char src[RC_PATH_MAX + 96];
	rc_cache_source(&rcossl.loader, src, sizeof src);
	rc_notice(&rcossl.loader, state, "%s (%s); %s such connections per policy; see `revocheck status`",
	          o == REVOCHECK_OUTCOME_NO_DATA ? "no revocation data yet"
	          : o == REVOCHECK_OUTCOME_STALE ? "revocation data is stale"
	                                         : "a revocation check failed",
	          src, res->allowed ? "allowing" : "refusing");
}

/*
 * Checks cert (depth i) against issuer. Returns 1 to continue, 0 to stop
 * (the application's callback refused the error), -1 on internal error.
 */
static int check_one(X509_STORE_CTX *ctx, int depth, X509 *cert, X509 *issuer)
{
	der_buf c, is;
	revocheck_result res = {REVOCHECK_OUTCOME_ERROR, 0};
	int encoded = der_encode(cert, &c) && der_encode(issuer, &is);
	if (!encoded) {
		der_free(&c);
		X509_STORE_CTX_set_error(ctx, X509_V_ERR_OUT_OF_MEM);
		return -1;
	}
	int answered = rc_check_der(&rcossl.loader, c.der, c.len, is.der, is.len, &res);
	der_free(&c);
	der_free(&is);
	if (answered)
		note_outcome(&res);
	rc_debug(&rcossl.loader, "depth %d: %s (%s)", depth,
	         answered ? rc_outcome_name(res.outcome) : "unavailable",
	         res.allowed ? "allowed" : "denied");
	if (res.allowed && res.outcome != REVOCHECK_OUTCOME_REVOKED)
		return 1;

	X509_STORE_CTX_set_error(ctx, refusal_error(res.outcome));
	X509_STORE_CTX_set_error_depth(ctx, depth);
	X509_STORE_CTX_set_current_cert(ctx, cert);
	X509_STORE_CTX_verify_cb cb = X509_STORE_CTX_get_verify_cb(ctx);
	return cb != NULL && cb(0, ctx) ? 1 : 0;
}

/* The wrapper installed as ctx->verify. */
static int rcossl_verify(X509_STORE_CTX *ctx)
{
	verify_slot orig = {.ptr = X509_STORE_CTX_get_ex_data(ctx, rcossl.ex_index)};
	if (orig.fn == NULL || orig.fn == rcossl_verify) {
		/* Cannot happen through new_func; never recurse or skip verification. */
		X509_STORE_CTX_set_error(ctx, X509_V_ERR_UNSPECIFIED);
		return -1;
	}
	int ok = orig.fn(ctx);
	/* ok > 0 also when the application's callback overrode failures. */
	if (ok <= 0 || __atomic_load_n(&rcossl.active, __ATOMIC_ACQUIRE) == 0)
		return ok;

	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	int n = sk_X509_num(chain);
	/* The last certificate (the trust anchor, or a partial chain's top) has
	 * no issuer in the chain and is not checked. */
	for (int i = 0; i + 1 < n; i++) {
		X509 *cert = sk_X509_value(chain, i);
		X509 *issuer = sk_X509_value(chain, i + 1);
		if (cert == NULL || issuer == NULL)
			continue;
		int r = check_one(ctx, i, cert, issuer);
		if (r <= 0)
			return r;
	}
	return ok;
}

/* ex_data new_func: runs at the end of X509_STORE_CTX_init. */
static void rcossl_ctx_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                           void *argp)
{
	(void)ptr;
	(void)argl;
	(void)argp;
	X509_STORE_CTX *ctx = parent;
	if (ctx == NULL || __atomic_load_n(&rcossl.active, __ATOMIC_ACQUIRE) == 0)
		return;
	verify_slot orig = {.fn = X509_STORE_CTX_get_verify(ctx)};
	/* NULL: a future OpenSSL that leaves the default implicit; we cannot
	 * call its internal verify, so leave such a context alone. Our own
	 * wrapper: the store was given it by someone; never wrap twice. */
	if (orig.fn == NULL || orig.fn == rcossl_verify) {
		rc_debug(&rcossl.loader, "X509_STORE_CTX not wrapped (verify is %s)",
		         orig.fn == NULL ? "NULL" : "already wrapped");
		return;
	}
	if (!CRYPTO_set_ex_data(ad, idx, orig.ptr))
		return; /* out of memory: leave the context as OpenSSL made it */
	X509_STORE_CTX_set_verify(ctx, rcossl_verify);
}

static void register_once(void)
{
	rcossl.ex_index = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_X509_STORE_CTX, 0, NULL,
	                                          rcossl_ctx_new, NULL, NULL);
}

int rcossl_hook_register(void)
{
	pthread_once(&hook_once, register_once);
	return rcossl.ex_index >= 0;
}
