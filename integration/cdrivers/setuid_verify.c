/*
 * setuid_verify.c — a small OpenSSL program of the kind that is installed
 * setuid root, for integration/setuid_test.go.
 *
 *   setuid-verify ROOT.pem CHAIN.pem
 *
 * Its OpenSSL configuration file is compiled in (-DRC_OPENSSL_CONF=...), as
 * a real setuid program reads the system's openssl.cnf and never the
 * caller's $OPENSSL_CONF. It prints its credentials, the revocheck
 * provider's state (the "revocheck-state" parameter, which reads the
 * revocheck configuration) and the verdict on CHAIN (end-entity first)
 * against ROOT. Everything a caller could make it leak appears on its
 * stdout or stderr, which the test searches.
 */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <openssl/core.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#ifndef RC_OPENSSL_CONF
#error "build with -DRC_OPENSSL_CONF='\"/path/openssl.cnf\"'"
#endif

static int print_state(OSSL_PROVIDER *prov, void *arg)
{
	(void)arg;
	if (strcmp(OSSL_PROVIDER_get0_name(prov), "revocheck") != 0)
		return 1;
	char state[2048] = "";
	OSSL_PARAM params[] = {OSSL_PARAM_utf8_string("revocheck-state", state, sizeof state),
	                       OSSL_PARAM_END};
	if (OSSL_PROVIDER_get_params(prov, params))
		printf("state: %s\n", state);
	else
		printf("state: (not available)\n");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: setuid-verify ROOT.pem CHAIN.pem\n");
		return 2;
	}
	printf("uid=%d euid=%d secure=%lu\n", (int)getuid(), (int)geteuid(), getauxval(AT_SECURE));
	OPENSSL_INIT_SETTINGS *s = OPENSSL_INIT_new();
	if (s == NULL || !OPENSSL_INIT_set_config_filename(s, RC_OPENSSL_CONF) ||
	    !OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, s)) {
		ERR_print_errors_fp(stderr);
		return 2;
	}
	OPENSSL_INIT_free(s);
	OSSL_PROVIDER_do_all(NULL, print_state, NULL);
	fflush(stdout);

	X509_STORE *store = X509_STORE_new();
	if (store == NULL || X509_STORE_load_file(store, argv[1]) != 1) {
		fprintf(stderr, "cannot load %s\n", argv[1]);
		return 2;
	}
	FILE *f = fopen(argv[2], "r");
	if (f == NULL) {
		perror(argv[2]);
		return 2;
	}
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *leaf = PEM_read_X509(f, NULL, NULL, NULL), *x;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(chain, x);
	fclose(f);
	if (leaf == NULL) {
		fprintf(stderr, "no certificate in %s\n", argv[2]);
		return 2;
	}
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (ctx == NULL || !X509_STORE_CTX_init(ctx, store, leaf, chain))
		return 2;
	int ok = X509_verify_cert(ctx);
	int err = X509_STORE_CTX_get_error(ctx);
	if (ok == 1)
		printf("verify: ok\n");
	else
		printf("verify: error %d %s\n", err, X509_verify_cert_error_string(err));
	X509_STORE_CTX_free(ctx);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	X509_STORE_free(store);
	return ok == 1 ? 0 : 1;
}
