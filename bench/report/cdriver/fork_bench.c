/*
 * fork_bench.c — what a check costs in a forked child (bench/fork-helper.sh).
 *
 *   fork_bench OPENSSL_CONF ROOT.pem CHAIN.pem N
 *
 * Loads OPENSSL_CONF (the revocheck provider), verifies CHAIN (end entity
 * first) N times in the parent — the first starts the Go runtime
 * in-process, the rest are warm — then forks one child that verifies it N
 * times: there every check runs a `revocheck check --request` helper
 * (adapters-common/rc_helper.c). Prints the median wall time of one
 * verification in each, with the verdict, as
 *   "parent_us=... child_us=... parent=ok|error child=ok|error".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

static X509_STORE *store;
static X509 *leaf;
static STACK_OF(X509) * chain;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int verify_once(void)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = ctx != NULL && X509_STORE_CTX_init(ctx, store, leaf, chain) && X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	return ok;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of n verifications (the first one included only if warm == 0). */
static double median_verify(int n, int *ok)
{
	double *t = calloc((size_t)n, sizeof *t);
	*ok = 1;
	for (int i = 0; i < n; i++) {
		double s = now_us();
		*ok &= verify_once();
		t[i] = now_us() - s;
	}
	qsort(t, (size_t)n, sizeof *t, cmp);
	double m = t[n / 2];
	free(t);
	return m;
}

int main(int argc, char **argv)
{
	if (argc != 5)
		return 2;
	int n = atoi(argv[4]);
	OPENSSL_INIT_SETTINGS *s = OPENSSL_INIT_new();
	if (n < 1 || s == NULL || !OPENSSL_INIT_set_config_filename(s, argv[1]) ||
	    !OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, s))
		return 2;
	store = X509_STORE_new();
	FILE *f = fopen(argv[3], "r");
	if (store == NULL || X509_STORE_load_file(store, argv[2]) != 1 || f == NULL)
		return 2;
	chain = sk_X509_new_null();
	leaf = PEM_read_X509(f, NULL, NULL, NULL);
	X509 *x;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(chain, x);
	fclose(f);
	if (leaf == NULL)
		return 2;
	int pok;
	verify_once(); /* starts Go in this process */
	double p = median_verify(n, &pok);
	int fds[2];
	if (pipe(fds) != 0)
		return 2;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int cok;
		double c = median_verify(n, &cok);
		char buf[64];
		int len = snprintf(buf, sizeof buf, "%.1f %d", c, cok);
		_exit(write(fds[1], buf, (size_t)len) == len ? 0 : 1);
	}
	close(fds[1]);
	char buf[64] = "";
	ssize_t r = read(fds[0], buf, sizeof buf - 1);
	int ws;
	waitpid(pid, &ws, 0);
	double c = 0;
	int cok = 0;
	if (r <= 0 || sscanf(buf, "%lf %d", &c, &cok) != 2)
		return 2;
	printf("parent_us=%.1f child_us=%.1f parent=%s child=%s\n", p, c, pok ? "ok" : "error",
	       cok ? "ok" : "error");
	return 0;
}
