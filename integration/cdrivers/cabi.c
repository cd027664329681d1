/*
 * cabi.c — exercises librevocheck.so through its public header only, as any
 * C program would: several threads check DER chains at once and compare the
 * outcome with the expected one; "bench" mode reports ns per call.
 *
 * usage: cabi CACHE_DIR EXPECTED LEAF.der ISSUER.der [EXPECTED LEAF ISSUER]...
 *        cabi --bench N CACHE_DIR LEAF.der ISSUER.der
 * EXPECTED is an outcome name (revoked, not_revoked, ...).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "revocheck.h"

#define THREADS 8
#define ROUNDS 2000
#define MAX_CASES 16

struct der {
	unsigned char *buf;
	size_t len;
};

struct check_case {
	const char *expected;
	struct der leaf, issuer;
};

static struct check_case cases[MAX_CASES];
static int ncases;
static revocheck_handle handle;
static int failures;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

static int read_file(const char *path, struct der *out)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	out->buf = malloc(1 << 16);
	out->len = out->buf ? fread(out->buf, 1, 1 << 16, f) : 0;
	fclose(f);
	return out->len > 0 ? 0 : -1;
}

static void *worker(void *arg)
{
	(void)arg;
	for (int r = 0; r < ROUNDS; r++) {
		const struct check_case *c = &cases[r % ncases];
		revocheck_result res;
		int rc = revocheck_check_der(handle, c->leaf.buf, c->leaf.len, c->issuer.buf,
		                             c->issuer.len, &res);
		const char *got = revocheck_outcome_string(res.outcome);
		if (rc != REVOCHECK_OK || strcmp(got, c->expected) != 0) {
			pthread_mutex_lock(&fail_lock);
			if (failures++ < 5)
				fprintf(stderr, "case %d: rc=%d outcome=%s, want %s\n", r % ncases, rc, got,
				        c->expected);
			pthread_mutex_unlock(&fail_lock);
		}
	}
	return NULL;
}

static char *overrides_for(const char *cache_dir)
{
	static char buf[2048];
	snprintf(buf, sizeof buf, "cache-dir=%s", cache_dir);
	return buf;
}

static int bench(long n, const char *cache_dir, const char *leaf, const char *issuer)
{
	struct check_case c;
	if (read_file(leaf, &c.leaf) || read_file(issuer, &c.issuer))
		return 2;
	if (revocheck_open(NULL, overrides_for(cache_dir), &handle) != REVOCHECK_OK)
		return 2;
	revocheck_result res;
	revocheck_check_der(handle, c.leaf.buf, c.leaf.len, c.issuer.buf, c.issuer.len, &res);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		revocheck_check_der(handle, c.leaf.buf, c.leaf.len, c.issuer.buf, c.issuer.len, &res);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
	printf("check_der %.1f ns/op outcome=%s\n", ns, revocheck_outcome_string(res.outcome));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "--bench") == 0)
		return bench(atol(argv[2]), argv[3], argv[4], argv[5]);
	if (argc < 5 || (argc - 2) % 3 != 0) {
		fprintf(stderr, "usage: cabi CACHE_DIR EXPECTED LEAF.der ISSUER.der ...\n");
		return 2;
	}
	if (revocheck_abi_version() != REVOCHECK_ABI_VERSION) {
		fprintf(stderr, "ABI version mismatch\n");
		return 1;
	}
	for (int i = 2; i + 2 < argc && ncases < MAX_CASES; i += 3) {
		cases[ncases].expected = argv[i];
		if (read_file(argv[i + 1], &cases[ncases].leaf) ||
		    read_file(argv[i + 2], &cases[ncases].issuer)) {
			fprintf(stderr, "cannot read %s or %s\n", argv[i + 1], argv[i + 2]);
			return 2;
		}
		ncases++;
	}
	/* A configuration problem is reported, not crashed on, and does not
	 * stop the open: the handle's errmsg names it. */
	revocheck_handle bad;
	if (revocheck_open(NULL, "no-such-key=1", &bad) != REVOCHECK_OK) {
		fprintf(stderr, "a bad override made the open fail\n");
		return 1;
	}
	char msg[256];
	revocheck_errmsg(bad, msg, sizeof msg);
	if (strstr(msg, "no-such-key") == NULL) {
		fprintf(stderr, "errmsg does not name the key: %s\n", msg);
		return 1;
	}
	revocheck_close(bad);
	revocheck_result res;
	if (revocheck_check_der(12345, NULL, 0, NULL, 0, &res) != REVOCHECK_ERR_BADHANDLE) {
		fprintf(stderr, "bad handle accepted\n");
		return 1;
	}
	if (revocheck_open(NULL, overrides_for(argv[1]), &handle) != REVOCHECK_OK) {
		revocheck_errmsg(0, msg, sizeof msg);
		fprintf(stderr, "open: %s\n", msg);
		return 1;
	}
	/* The state and the cache's origin are the library's to report. */
	int32_t ready = -1;
	char origin[256] = "";
	if (revocheck_state(handle, &ready, msg, sizeof msg) != REVOCHECK_OK || ready != 1 ||
	    strncmp(msg, "ready (cache ", 13) != 0 ||
	    revocheck_cache_origin(handle, origin, sizeof origin) != REVOCHECK_OK ||
	    strstr(origin, "set by this adapter's cache-dir") == NULL ||
	    revocheck_state(12345, &ready, msg, sizeof msg) != REVOCHECK_ERR_BADHANDLE) {
		fprintf(stderr, "state: %d %s; origin: %s\n", ready, msg, origin);
		return 1;
	}
	unsigned char junk[3] = {0x30, 0x82, 0xff};
	if (revocheck_check_der(handle, junk, sizeof junk, junk, sizeof junk, &res) !=
	        REVOCHECK_ERR_INVALID ||
	    res.outcome != REVOCHECK_OUTCOME_ERROR) {
		fprintf(stderr, "junk DER not reported as invalid\n");
		return 1;
	}
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	if (revocheck_close(handle) != REVOCHECK_OK || revocheck_close(handle) != REVOCHECK_ERR_BADHANDLE) {
		fprintf(stderr, "close semantics wrong\n");
		return 1;
	}
	printf("%d threads x %d checks, %d failures, version %s\n", THREADS, ROUNDS, failures,
	       revocheck_version());
	return failures ? 1 : 0;
}
