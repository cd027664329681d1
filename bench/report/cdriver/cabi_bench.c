/*
 * cabi_bench.c — the cost of librevocheck.so as a host process sees it.
 *
 * Cold: dlopen of the library (as the adapters do, lazily), revocheck_open
 * and the first check (which opens the cache: mmap + parse of every filter),
 * each timed, with the process's resident memory before and after.
 * Warm: N checks per kind of sample input through revocheck_check_input,
 * and optionally revocheck_check_der on a real chain; every answer is
 * compared with the expected outcome.
 *
 * usage: cabi_bench LIB CACHE_DIR SAMPLE N [KIND|all] [LEAF.der ISSUER.der]
 *   SAMPLE: lines "OUTCOME ISSUER_HASH_HEX SERIAL_HEX N LOGID_HEX:TS..."
 *           (bench/report synth -sample).
 *   KIND:   only this outcome's inputs in the warm loop (for callgrind).
 * Prints "key=value" lines for bench/report.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "revocheck.h"

#define MAX_INPUTS 1024
#define MAX_SCTS 8
#define MAX_DER (1 << 16)

typedef int (*open_fn)(const char *, const char *, revocheck_handle *);
typedef int (*check_input_fn)(revocheck_handle, const uint8_t *, const uint8_t *, size_t,
                              const revocheck_sct *, size_t, revocheck_result *);
typedef int (*check_der_fn)(revocheck_handle, const uint8_t *, size_t, const uint8_t *, size_t,
                            revocheck_result *);
typedef const char *(*outcome_string_fn)(int32_t);

struct input {
	char kind[16];
	uint8_t issuer[32];
	uint8_t serial[64];
	size_t serial_len;
	revocheck_sct scts[MAX_SCTS];
	size_t n_scts;
};

static struct input inputs[MAX_INPUTS];
static int n_inputs;

static double now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* hex decodes exactly n bytes from s; returns the characters consumed or -1. */
static int hex(const char *s, uint8_t *out, size_t max, size_t *n)
{
	size_t i = 0;
	for (; s[2 * i] && s[2 * i] != ' ' && s[2 * i] != ':' && s[2 * i] != '\n'; i++) {
		unsigned v;
		if (i >= max || sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*n = i;
	return (int)(2 * i);
}

static int read_sample(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	char line[4096];
	while (n_inputs < MAX_INPUTS && fgets(line, sizeof line, f)) {
		struct input *in = &inputs[n_inputs];
		char *p = line;
		size_t n;
		int k;
		unsigned long nscts;
		if (sscanf(p, "%15s %n", in->kind, &k) != 1)
			break;
		p += k;
		if ((k = hex(p, in->issuer, 32, &n)) < 0 || n != 32)
			goto bad;
		p += k + 1;
		if ((k = hex(p, in->serial, sizeof in->serial, &in->serial_len)) < 0)
			goto bad;
		p += k + 1;
		if (sscanf(p, "%lu%n", &nscts, &k) != 1 || nscts > MAX_SCTS)
			goto bad;
		p += k;
		for (unsigned long i = 0; i < nscts; i++) {
			unsigned long long ts;
			p++; /* the space */
			if ((k = hex(p, in->scts[i].log_id, 32, &n)) < 0 || n != 32)
				goto bad;
			p += k;
			if (sscanf(p, ":%llu%n", &ts, &k) != 1)
				goto bad;
			p += k;
			in->scts[i].timestamp_ms = ts;
		}
		in->n_scts = nscts;
		n_inputs++;
	}
	fclose(f);
	return n_inputs > 0 ? 0 : -1;
bad:
	fprintf(stderr, "cabi_bench: bad sample line %d\n", n_inputs + 1);
	fclose(f);
	return -1;
}

static int read_der(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	*buf = malloc(MAX_DER);
	*len = *buf ? fread(*buf, 1, MAX_DER, f) : 0;
	fclose(f);
	return *len > 0 ? 0 : -1;
}

/* status_kb reads a "Vm...:" field of /proc/self/status in kB. */
static long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return -1;
	char line[256];
	long v = -1;
	size_t fl = strlen(field);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6 && argc != 8) {
		fprintf(stderr, "usage: cabi_bench LIB CACHE_DIR SAMPLE N [KIND|all] [LEAF.der ISSUER.der]\n");
		return 2;
	}
	const char *lib = argv[1], *cache_dir = argv[2];
	long n = atol(argv[4]);
	const char *only = argc >= 6 ? argv[5] : "all";
	if (read_sample(argv[3]) != 0) {
		fprintf(stderr, "cabi_bench: cannot read sample %s\n", argv[3]);
		return 2;
	}
	uint8_t *leaf = NULL, *issuer = NULL;
	size_t leaf_len = 0, issuer_len = 0;
	if (argc == 8 && (read_der(argv[6], &leaf, &leaf_len) || read_der(argv[7], &issuer, &issuer_len))) {
		fprintf(stderr, "cabi_bench: cannot read %s / %s\n", argv[6], argv[7]);
		return 2;
	}
	char overrides[4096];
	snprintf(overrides, sizeof overrides, "cache-dir=%s;max-age=0", cache_dir);

	long rss0 = status_kb("VmRSS");
	double t0 = now_ns(CLOCK_MONOTONIC);
	void *dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "cabi_bench: %s\n", dlerror());
		return 2;
	}
	double t1 = now_ns(CLOCK_MONOTONIC);
	open_fn rc_open = (open_fn)dlsym(dl, "revocheck_open");
	check_input_fn check_input = (check_input_fn)dlsym(dl, "revocheck_check_input");
	check_der_fn check_der = (check_der_fn)dlsym(dl, "revocheck_check_der");
	outcome_string_fn outcome_string = (outcome_string_fn)dlsym(dl, "revocheck_outcome_string");
	if (!rc_open || !check_input || !check_der || !outcome_string) {
		fprintf(stderr, "cabi_bench: missing symbols in %s\n", lib);
		return 2;
	}
	revocheck_handle h;
	if (rc_open(NULL, overrides, &h) != REVOCHECK_OK) {
		fprintf(stderr, "cabi_bench: revocheck_open failed\n");
		return 2;
	}
	double t2 = now_ns(CLOCK_MONOTONIC);
	revocheck_result res;
	const struct input *f = &inputs[0];
	check_input(h, f->issuer, f->serial, f->serial_len, f->scts, f->n_scts, &res);
	double t3 = now_ns(CLOCK_MONOTONIC);
	if (strcmp(outcome_string(res.outcome), f->kind) != 0) {
		fprintf(stderr, "cabi_bench: first check: %s, want %s\n", outcome_string(res.outcome), f->kind);
		return 1;
	}
	long rss1 = status_kb("VmRSS");
	printf("cold dlopen_ns=%.0f open_ns=%.0f first_check_ns=%.0f total_ns=%.0f rss_before_kb=%ld rss_after_kb=%ld\n",
	       t1 - t0, t2 - t1, t3 - t2, t3 - t0, rss0, rss1);

	static const char *kinds[] = {"not_revoked", "revoked", "not_enrolled", "not_covered"};
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && n > 0; k++) {
		if (strcmp(only, "all") != 0 && strcmp(only, kinds[k]) != 0)
			continue;
		int idx[MAX_INPUTS], m = 0;
		for (int i = 0; i < n_inputs; i++)
			if (strcmp(inputs[i].kind, kinds[k]) == 0)
				idx[m++] = i;
		if (m == 0)
			continue;
		int32_t want = -1;
		for (int32_t o = 0; o <= 8; o++)
			if (strcmp(outcome_string(o), kinds[k]) == 0)
				want = o;
		long wrong = 0;
		/* A warm handle: each issuer's first check finds its blocks. */
		for (int i = 0; i < m; i++)
			check_input(h, inputs[idx[i]].issuer, inputs[idx[i]].serial, inputs[idx[i]].serial_len,
				    inputs[idx[i]].scts, inputs[idx[i]].n_scts, &res);
		double c0 = now_ns(CLOCK_THREAD_CPUTIME_ID), w0 = now_ns(CLOCK_MONOTONIC);
		for (long i = 0; i < n; i++) {
			const struct input *in = &inputs[idx[i % m]];
			check_input(h, in->issuer, in->serial, in->serial_len, in->scts, in->n_scts, &res);
			wrong += res.outcome != want;
		}
		double w1 = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		if (wrong) {
			fprintf(stderr, "cabi_bench: %ld of %ld %s checks answered otherwise\n", wrong, n, kinds[k]);
			return 1;
		}
		printf("warm kind=%s n=%ld ns=%.1f cpu_ns=%.1f\n", kinds[k], n, (w1 - w0) / (double)n,
		       (c1 - c0) / (double)n);
	}
	if (leaf != NULL && n > 0) {
		check_der(h, leaf, leaf_len, issuer, issuer_len, &res);
		int32_t first = res.outcome;
		double c0 = now_ns(CLOCK_THREAD_CPUTIME_ID), w0 = now_ns(CLOCK_MONOTONIC);
		for (long i = 0; i < n; i++)
			check_der(h, leaf, leaf_len, issuer, issuer_len, &res);
		double w1 = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		printf("der outcome=%s n=%ld ns=%.1f cpu_ns=%.1f\n", outcome_string(first), n, (w1 - w0) / (double)n,
		       (c1 - c0) / (double)n);
	}
	printf("end rss_kb=%ld hwm_kb=%ld\n", status_kb("VmRSS"), status_kb("VmHWM"));
	return 0;
}
