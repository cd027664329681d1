/*
 * gh_check.c — revocation check of a chain GnuTLS has validated (see
 * gh_check.h). Plain C; GnuTLS is reached only through the gh_funcs table.
 */
#include "gh_check.h"

#include <stdlib.h>
#include <string.h>

/* Most certificates are 1–2 KB: export into the stack, fall back to the heap. */
#define GH_DER_STACK 4096

typedef struct gh_der {
	unsigned char stack[GH_DER_STACK];
	unsigned char *data; /* stack, heap (owned) or NULL on failure */
	size_t len;
} gh_der;

static void der_export(const gh_funcs *f, gnutls_x509_crt_t crt, gh_der *d)
{
	d->data = NULL;
	d->len = sizeof d->stack;
	int ret = f->crt_export(crt, GNUTLS_X509_FMT_DER, d->stack, &d->len);
	if (ret == 0) {
		d->data = d->stack;
		return;
	}
	if (ret != GNUTLS_E_SHORT_MEMORY_BUFFER || d->len == 0 || d->len > 1024 * 1024)
		return;
	unsigned char *heap = malloc(d->len);
	if (heap == NULL)
		return;
	if (f->crt_export(crt, GNUTLS_X509_FMT_DER, heap, &d->len) != 0) {
		free(heap);
		return;
	}
	d->data = heap;
}

static void der_free(gh_der *d)
{
	if (d->data != NULL && d->data != d->stack)
		free(d->data);
	d->data = NULL;
}

/* Status bits for one certificate's result (see gh_check.h). */
static unsigned int status_for(const revocheck_result *res)
{
	if (res->outcome == REVOCHECK_OUTCOME_REVOKED)
		return GH_STATUS_REVOKED; /* always refused, whatever the policy says */
	if (res->allowed)
		return 0;
	if (res->outcome == REVOCHECK_OUTCOME_STALE)
		return GH_STATUS_STALE;
	if (res->outcome == REVOCHECK_OUTCOME_CT_NONCOMPLIANT)
		return GH_STATUS_CT;
	return GH_STATUS_NO_STATUS;
}

/* Asks about cert (DER) against issuer (DER); NULL reaches the library as
 * "no input": it answers "error" and policy.error decides, like any other
 * bad input. what names the pair in debug lines. */
static unsigned int check_pair_der(rc_loader *l, unsigned int depth, const unsigned char *c, size_t clen,
                                   const unsigned char *i, size_t ilen, const char *what)
{
	revocheck_result res = {0, 0};
	int answered = rc_check_der(l, c, c ? clen : 0, i, i ? ilen : 0, &res);
	unsigned int st = status_for(&res);
	rc_debug(l, "certificate %u of the chain%s: %s%s, %s", depth, what, rc_outcome_name(res.outcome),
	         answered ? "" : " (library unavailable)", st ? "refused" : "allowed");
	return st;
}

static unsigned int check_pair(rc_loader *l, const gh_funcs *f, unsigned int depth,
                               gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer)
{
	gh_der c, i;
	der_export(f, cert, &c);
	der_export(f, issuer, &i);
	unsigned int st = check_pair_der(l, depth, c.data, c.len, i.data, i.len, "");
	der_free(&c);
	der_free(&i);
	return st;
}

/* Folds one certificate's status into the chain's: revoked wins over any
 * other refusal, otherwise the first refusal is kept. */
static unsigned int fold_status(unsigned int refused, unsigned int st)
{
	if (refused & GNUTLS_CERT_REVOKED)
		return refused;
	if (st & GNUTLS_CERT_REVOKED)
		return st;
	return refused ? refused : st;
}

static unsigned char *der_dup(const gh_der *d)
{
	if (d->data == NULL || d->len == 0 || d->len > GH_LINK_DER_MAX)
		return NULL;
	unsigned char *p = malloc(d->len);
	if (p != NULL)
		memcpy(p, d->data, d->len);
	return p;
}

static int same_der(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	return a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0;
}

void gh_links_record(gh_links *ls, const gh_funcs *f, gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer)
{
	if (ls == NULL || cert == NULL || issuer == NULL || ls->n >= GH_MAX_LINKS)
		return;
	/* Only issuer relationships: GnuTLS also reports a chain element
	 * matched against an anchor with the same key, and roots. */
	if (cert == issuer || !f->crt_check_issuer(cert, issuer) || f->crt_check_issuer(cert, cert))
		return;
	gh_der c, i;
	der_export(f, cert, &c);
	der_export(f, issuer, &i);
	int dup = 0;
	for (unsigned int k = 0; k < ls->n && !dup; k++)
		dup = same_der(ls->v[k].cert, ls->v[k].cert_len, c.data, c.len) &&
		      same_der(ls->v[k].issuer, ls->v[k].issuer_len, i.data, i.len);
	if (!dup) {
		unsigned char *cc = der_dup(&c), *ic = der_dup(&i);
		if (cc != NULL && ic != NULL) {
			ls->v[ls->n].cert = cc;
			ls->v[ls->n].cert_len = c.len;
			ls->v[ls->n].issuer = ic;
			ls->v[ls->n].issuer_len = i.len;
			ls->n++;
		} else {
			free(cc);
			free(ic);
		}
	}
	der_free(&c);
	der_free(&i);
}

void gh_links_free(gh_links *ls)
{
	if (ls == NULL)
		return;
	for (unsigned int k = 0; k < ls->n; k++) {
		free(ls->v[k].cert);
		free(ls->v[k].issuer);
	}
	ls->n = 0;
}

/* The link of cert (DER) in ls, or -1. */
static int link_of(const gh_links *ls, const unsigned char *cert, size_t len)
{
	for (unsigned int k = 0; k < ls->n; k++)
		if (same_der(ls->v[k].cert, ls->v[k].cert_len, cert, len))
			return (int)k;
	return -1;
}

/*
 * Walks GnuTLS's verified links from the end entity up: every certificate
 * of the verified path is checked against the issuer GnuTLS verified it
 * with, wherever that came from. *walked is 0 when the end entity has no
 * link (the caller then walks the chain itself).
 */
static unsigned int check_links(rc_loader *l, const gh_funcs *f, const gh_links *ls,
                                gnutls_x509_crt_t leaf, int *walked)
{
	*walked = 0;
	gh_der d;
	der_export(f, leaf, &d);
	int k = d.data != NULL ? link_of(ls, d.data, d.len) : -1;
	der_free(&d);
	if (k < 0)
		return 0;
	*walked = 1;
	unsigned int refused = 0;
	for (unsigned int depth = 0; k >= 0 && depth < GH_MAX_DEPTH; depth++) {
		unsigned int st = check_pair_der(l, depth, ls->v[k].cert, ls->v[k].cert_len, ls->v[k].issuer,
		                                 ls->v[k].issuer_len, " (verified path)");
		refused = fold_status(refused, st);
		if (refused & GNUTLS_CERT_REVOKED)
			return refused;
		k = link_of(ls, ls->v[k].issuer, ls->v[k].issuer_len);
	}
	return refused;
}

/* Index of an unused element of chain that issued chain[cur], preferring
 * the next one (the usual, sorted case); -1 when none did. */
static int find_issuer(const gh_funcs *f, const gnutls_x509_crt_t *chain, unsigned int n,
                       const unsigned char *used, unsigned int cur)
{
	if (cur + 1 < n && !used[cur + 1] && f->crt_check_issuer(chain[cur], chain[cur + 1]))
		return (int)cur + 1;
	for (unsigned int j = 0; j < n; j++)
		if (!used[j] && f->crt_check_issuer(chain[cur], chain[j]))
			return (int)j;
	return -1;
}

unsigned int gh_check_chain(rc_loader *l, const gh_funcs *f, gnutls_x509_trust_list_t tl,
                            const gnutls_x509_crt_t *chain, unsigned int n, const gh_links *links)
{
	if (chain == NULL || n == 0)
		return 0;
	if (links != NULL && links->n > 0) {
		int walked;
		unsigned int st = check_links(l, f, links, chain[0], &walked);
		if (walked)
			return st;
	}
	if (n > GH_MAX_DEPTH)
		n = GH_MAX_DEPTH; /* GnuTLS itself refuses longer chains */

	unsigned char used[GH_MAX_DEPTH] = {0};
	unsigned int cur = 0, refused = 0;
	used[0] = 1;

	/* Mirrors GnuTLS's path building: stop at the first certificate a
	 * trust anchor issued, otherwise continue with its issuer from the
	 * chain. Keep going after a policy refusal so that a revoked
	 * certificate higher up still reports "revoked". */
	for (unsigned int depth = 0; depth < GH_MAX_DEPTH; depth++) {
		gnutls_x509_crt_t cert = chain[cur];
		if (f->crt_check_issuer(cert, cert))
			break; /* self-issued: a root, nothing above it to ask */

		gnutls_x509_crt_t anchor = NULL;
		if (tl != NULL && f->tl_get_issuer(tl, cert, &anchor, GNUTLS_TL_GET_COPY) == 0) {
			unsigned int st = check_pair(l, f, depth, cert, anchor);
			f->crt_deinit(anchor);
			refused = fold_status(refused, st);
			break;
		}

		int next = find_issuer(f, chain, n, used, cur);
		if (next < 0) {
			/* GnuTLS found the issuer some other way (e.g. a PKCS#11
			 * trust module without a copy); nothing to check against. */
			rc_debug(l, "certificate %u of the chain: issuer not available, not checked", depth);
			break;
		}
		refused = fold_status(refused, check_pair(l, f, depth, cert, chain[next]));
		if (refused & GNUTLS_CERT_REVOKED)
			return refused;
		used[next] = 1;
		cur = (unsigned int)next;
	}
	return refused;
}

/* Environment is read with secure_getenv: a setuid program reached through
 * /etc/ld.so.preload ignores the caller's REVOCHECK_GNUTLS_* settings. */
static int env_true(const char *name)
{
	const char *v = secure_getenv(name);
	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

int gh_disabled_by_env(void)
{
	return env_true("REVOCHECK_GNUTLS_DISABLE");
}

void gh_add_overrides(rc_loader *l, const char *s, const char *what)
{
	char buf[RC_OVERRIDES_MAX];
	if (strlen(s) >= sizeof buf) {
		rc_log(l, "ignoring %s: longer than %d bytes", what, RC_OVERRIDES_MAX - 1);
		return;
	}
	strcpy(buf, s);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ";\n", &save); tok != NULL; tok = strtok_r(NULL, ";\n", &save)) {
		char *eq = strchr(tok, '=');
		if (eq == NULL) {
			if (strspn(tok, " \t") != strlen(tok))
				rc_log(l, "ignoring \"%s\" in %s: not key=value", tok, what);
			continue;
		}
		*eq = '\0';
		rc_loader_add_override(l, tok, eq + 1);
	}
}

void gh_configure_from_env(rc_loader *l)
{
	const char *u = secure_getenv("REVOCHECK_GNUTLS_UNAVAILABLE");
	if (u != NULL && *u != '\0') {
		if (strcmp(u, "deny") == 0)
			l->unavailable_allow = 0;
		else if (strcmp(u, "allow") == 0)
			l->unavailable_allow = 1;
		else
			rc_log(l, "ignoring REVOCHECK_GNUTLS_UNAVAILABLE=%s: want allow or deny", u);
	}
	const char *o = secure_getenv("REVOCHECK_GNUTLS_OVERRIDES");
	if (o != NULL && *o != '\0')
		gh_add_overrides(l, o, "REVOCHECK_GNUTLS_OVERRIDES");
	l->use_syslog = env_true("REVOCHECK_GNUTLS_SYSLOG");
}
