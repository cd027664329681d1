/*
 * complete.c — chain completion for the OpenSSL provider: when the
 * certificates a verification starts from (the target and the untrusted
 * stack, with TLS the peer's certificate message) lack an issuer that the
 * trust store does not have either, the preloaded intermediates that may
 * issue it (rc_find_issuers) are added to the untrusted stack, so that
 * OpenSSL's own chain building and signature checks decide exactly as if
 * the server had sent them. They are never trust anchors.
 *
 * Where: X509_verify_cert builds the chain before anything we wrap can run
 * (the verify wrapper of hook.c is reached only once a chain was built),
 * and the untrusted stack is copied at the start of chain building. So
 * the decision is taken at the end of X509_STORE_CTX_init, in a second
 * ex_data new_func: the target, the untrusted stack and the store are set
 * then. The common case costs a walk up the presented certificates
 * (issuer name and key identifier comparisons, no signature) and one store
 * lookup of the top certificate's issuer, which OpenSSL then repeats from
 * its cache; rc_find_issuers is asked only when that lookup finds nothing
 * and the top certificate is not self-issued.
 *
 * The ex_data slot owns the completed stack (a shallow copy of the caller's
 * untrusted certificates, plus the candidates, each with one reference);
 * free_func releases it when the context is cleaned up or freed.
 */
#include "rcossl.h"

#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/* rc_find_issuers' answer for one certificate. */
#define RCOSSL_CANDIDATES_MAX (64 * 1024)
/* Rounds when a candidate itself lacks its issuer, and candidates in all. */
#define RCOSSL_COMPLETE_ROUNDS 4
#define RCOSSL_MAX_ADDED 8
/* Longest walk up the presented certificates (OpenSSL's default depth is 100,
 * but no real chain comes close). */
#define RCOSSL_MAX_WALK 16

static pthread_once_t complete_once = PTHREAD_ONCE_INIT;
static int complete_index = -1;

typedef struct {
	STACK_OF(X509) *untrusted; /* what the context now uses: caller's + added (borrowed refs) */
	STACK_OF(X509) *added;     /* the candidates, one reference each */
} completion;

/* The issuer of x among sk (not x itself), or NULL: name and key
 * identifier, as OpenSSL's chain building matches them. */
static X509 *issuer_in(STACK_OF(X509) *sk, X509 *x)
{
	for (int i = 0; i < sk_X509_num(sk); i++) {
		X509 *c = sk_X509_value(sk, i);
		if (c != NULL && c != x && X509_check_issued(c, x) == X509_V_OK)
			return c;
	}
	return NULL;
}

static int self_issued(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

/* The top of the presented certificates: up from cert through sk while
 * an issuer is there. */
static X509 *presented_top(X509 *cert, STACK_OF(X509) *sk)
{
	X509 *cur = cert;
	for (int depth = 0; depth < RCOSSL_MAX_WALK && !self_issued(cur); depth++) {
		X509 *up = issuer_in(sk, cur);
		if (up == NULL || up == cert)
			break;
		cur = up;
	}
	return cur;
}

/* 1 when the trust store has an issuer of x (OpenSSL's own lookup). */
static int issuer_in_store(X509_STORE_CTX *ctx, X509 *x)
{
	X509 *iss = NULL;
	int ok = X509_STORE_CTX_get1_issuer(&iss, ctx, x);
	X509_free(iss);
	return ok > 0;
}

/* 1 when x needs an issuer nobody has: not self-issued, none among have
 * and added, none in the store. */
static int lacks_issuer(X509_STORE_CTX *ctx, X509 *x, STACK_OF(X509) *have, STACK_OF(X509) *added)
{
	return !self_issued(x) && issuer_in(have, x) == NULL && issuer_in(added, x) == NULL &&
	       !issuer_in_store(ctx, x);
}

/* Asks for x's issuer candidates and pushes the new ones onto added.
 * Returns the number pushed. */
static int add_candidates(X509 *x, STACK_OF(X509) *have, STACK_OF(X509) *added, unsigned char *buf)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	if (n <= 0)
		return 0;
	size_t len = 0;
	int count = rc_find_issuers(&rcossl.loader, der, (size_t)n, buf, RCOSSL_CANDIDATES_MAX, &len);
	OPENSSL_free(der);
	if (count <= 0 || len == 0 || len > RCOSSL_CANDIDATES_MAX)
		return 0;
	int pushed = 0;
	const unsigned char *p = buf, *end = buf + len;
	while (p < end && sk_X509_num(added) < RCOSSL_MAX_ADDED) {
		X509 *c = d2i_X509(NULL, &p, (long)(end - p)); /* advances p */
		if (c == NULL)
			break;
		int known = 0;
		for (int i = 0; i < sk_X509_num(have) && !known; i++)
			known = X509_cmp(sk_X509_value(have, i), c) == 0;
		for (int i = 0; i < sk_X509_num(added) && !known; i++)
			known = X509_cmp(sk_X509_value(added, i), c) == 0;
		if (known || !sk_X509_push(added, c)) {
			X509_free(c);
			continue;
		}
		pushed++;
	}
	rc_debug(&rcossl.loader, "chain completion: %d preloaded issuer candidate(s), %d new", count, pushed);
	return pushed;
}

/* The candidates for the presented chain's missing issuers, or NULL. */
static STACK_OF(X509) *find_candidates(X509_STORE_CTX *ctx, X509 *cert, STACK_OF(X509) *have)
{
	X509 *top = presented_top(cert, have);
	if (!lacks_issuer(ctx, top, have, NULL))
		return NULL; /* the common case: complete, or rooted in the store */
	STACK_OF(X509) *added = sk_X509_new_null();
	unsigned char *buf = OPENSSL_malloc(RCOSSL_CANDIDATES_MAX);
	if (added == NULL || buf == NULL) {
		sk_X509_free(added);
		OPENSSL_free(buf);
		return NULL;
	}
	X509 *ask = top;
	for (int round = 0; ask != NULL && round < RCOSSL_COMPLETE_ROUNDS; round++) {
		int from = sk_X509_num(added);
		if (add_candidates(ask, have, added, buf) == 0)
			break;
		/* A new candidate that itself lacks its issuer is asked about next. */
		ask = NULL;
		for (int i = from; i < sk_X509_num(added) && ask == NULL; i++) {
			X509 *c = sk_X509_value(added, i);
			if (lacks_issuer(ctx, c, have, added))
				ask = c;
		}
	}
	OPENSSL_free(buf);
	if (sk_X509_num(added) == 0) {
		sk_X509_free(added);
		return NULL;
	}
	return added;
}

static void complete_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)ptr;
	(void)argl;
	(void)argp;
	X509_STORE_CTX *ctx = parent;
	if (ctx == NULL || __atomic_load_n(&rcossl.active, __ATOMIC_ACQUIRE) == 0)
		return;
	X509 *cert = X509_STORE_CTX_get0_cert(ctx);
	if (cert == NULL || X509_STORE_CTX_get0_store(ctx) == NULL)
		return;
	STACK_OF(X509) *have = X509_STORE_CTX_get0_untrusted(ctx);
	/* Lookups and decoding may queue errors; the host's error queue must
	 * look as if we had not been here. */
	ERR_set_mark();
	STACK_OF(X509) *added = find_candidates(ctx, cert, have);
	ERR_pop_to_mark();
	if (added == NULL)
		return;
	completion *c = OPENSSL_zalloc(sizeof *c);
	STACK_OF(X509) *all = have != NULL ? sk_X509_dup(have) : sk_X509_new_null();
	int ok = c != NULL && all != NULL;
	for (int i = 0; ok && i < sk_X509_num(added); i++)
		ok = sk_X509_push(all, sk_X509_value(added, i)) > 0;
	if (!ok || !CRYPTO_set_ex_data(ad, idx, c)) {
		/* Out of memory: the context stays as OpenSSL made it. */
		sk_X509_free(all);
		sk_X509_pop_free(added, X509_free);
		OPENSSL_free(c);
		return;
	}
	c->untrusted = all;
	c->added = added;
	X509_STORE_CTX_set0_untrusted(ctx, all);
}

static void complete_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	completion *c = ptr;
	if (c == NULL)
		return;
	sk_X509_free(c->untrusted);
	sk_X509_pop_free(c->added, X509_free);
	OPENSSL_free(c);
}

static void register_once(void)
{
	complete_index = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_X509_STORE_CTX, 0, NULL, complete_new, NULL,
	                                         complete_free);
}

int rcossl_complete_register(void)
{
	pthread_once(&complete_once, register_once);
	return complete_index >= 0;
}
