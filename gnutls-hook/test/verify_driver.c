/*
 * verify_driver.c — test driver for the GnuTLS hook and API (integration/
 * gnutls_test.go). Plain GnuTLS client code; whether revocation is checked
 * depends on LD_PRELOAD=librevocheck-gnutls.so or the --api options.
 *
 *   gnutls-verify-driver chain ROOT CHAIN [--crt1|--api] [--fork]
 *       Verifies CHAIN (PEM, end entity first) against ROOT with
 *       gnutls_x509_trust_list_verify_crt2 (--crt1: the older
 *       gnutls_x509_trust_list_verify_crt; --api: verify_crt2, then
 *       revocheck_gnutls_check_chain). --fork: then forks and verifies again
 *       in the child, which must finish (alarm after 20 s).
 *       --getissuer FILE: the trust list's getissuer callback
 *       (gnutls_x509_trust_list_set_getissuer_function) supplies the
 *       certificates of FILE (PEM) when GnuTLS misses an issuer, as an
 *       application fetching AIA issuers does.
 *   gnutls-verify-driver tls ROOT PORT [--peers3|--auto|--install] [--forks N]
 *       TLS handshake with 127.0.0.1:PORT, then gnutls_certificate_verify_peers2
 *       (--peers3: verify_peers3 with the host name; --auto: the handshake
 *       verifies, gnutls_session_set_verify_cert; --install:
 *       revocheck_gnutls_install on the credentials). --forks N: then, like
 *       a pre-fork server, forks N children at once that each make the same
 *       connection ("child I: ..."), and prints
 *       "children: A accepted, R refused, F failed".
 *
 * Prints "<who>: accepted" or "<who>: refused status=0x... <GnuTLS text>".
 * Exit: 0 accepted, 1 refused (in parent or child), 2 setup error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "revocheck-gnutls.h"

static int report(const char *who, unsigned int status)
{
	if (status == 0) {
		printf("%s: accepted\n", who);
		fflush(stdout);
		return 0;
	}
	gnutls_datum_t text = {NULL, 0};
	gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0);
	printf("%s: refused status=0x%x %s\n", who, status, text.data ? (char *)text.data : "");
	gnutls_free(text.data);
	fflush(stdout);
	return 1;
}

static int fail(const char *what, int ret)
{
	fprintf(stderr, "verify-driver: %s: %s\n", what, gnutls_strerror(ret));
	return 2;
}

static int has_opt(int argc, char **argv, const char *opt)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], opt) == 0)
			return 1;
	return 0;
}

static int verify_chain(gnutls_x509_trust_list_t tl, gnutls_x509_crt_t *chain, unsigned int n,
                        int crt1, int api, unsigned int *status)
{
	int ret;
	*status = 0;
	if (crt1)
		ret = gnutls_x509_trust_list_verify_crt(tl, chain, n, 0, status, NULL);
	else
		ret = gnutls_x509_trust_list_verify_crt2(tl, chain, n, NULL, 0, 0, status, NULL);
	if (ret < 0)
		return ret;
	if (api)
		ret = revocheck_gnutls_check_chain(tl, chain, n, status);
	return ret;
}

/* The --getissuer file, read once; the callback hands GnuTLS a fresh copy
 * (GnuTLS owns and frees what the callback returns). */
static gnutls_datum_t getissuer_pem;

static int getissuer_cb(gnutls_x509_trust_list_t list, const gnutls_x509_crt_t cert, gnutls_x509_crt_t **issuers,
                        unsigned int *issuers_size)
{
	(void)list;
	(void)cert;
	*issuers = NULL;
	*issuers_size = 0;
	int ret = gnutls_x509_crt_list_import2(issuers, issuers_size, &getissuer_pem, GNUTLS_X509_FMT_PEM, 0);
	printf("getissuer callback: %u certificate(s)\n", ret < 0 ? 0 : *issuers_size);
	return ret < 0 ? ret : 0;
}

static const char *opt_value(int argc, char **argv, const char *opt)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], opt) == 0)
			return argv[i + 1];
	return NULL;
}

static int cmd_chain(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	int crt1 = has_opt(argc, argv, "--crt1"), api = has_opt(argc, argv, "--api");
	gnutls_x509_trust_list_t tl;
	int ret = gnutls_x509_trust_list_init(&tl, 0);
	if (ret < 0)
		return fail("trust list", ret);
	ret = gnutls_x509_trust_list_add_trust_file(tl, argv[2], NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	if (ret <= 0)
		return fail("loading the root", ret < 0 ? ret : GNUTLS_E_NO_CERTIFICATE_FOUND);
	const char *gi = opt_value(argc, argv, "--getissuer");
	if (gi != NULL) {
		ret = gnutls_load_file(gi, &getissuer_pem);
		if (ret < 0)
			return fail("reading the getissuer file", ret);
		gnutls_x509_trust_list_set_getissuer_function(tl, getissuer_cb);
	}
	gnutls_datum_t pem;
	ret = gnutls_load_file(argv[3], &pem);
	if (ret < 0)
		return fail("reading the chain", ret);
	gnutls_x509_crt_t *chain = NULL;
	unsigned int n = 0;
	ret = gnutls_x509_crt_list_import2(&chain, &n, &pem, GNUTLS_X509_FMT_PEM, 0);
	gnutls_free(pem.data);
	if (ret < 0)
		return fail("importing the chain", ret);

	unsigned int status;
	ret = verify_chain(tl, chain, n, crt1, api, &status);
	if (ret < 0)
		return fail("verify", ret);
	int rc = report("parent", status);

	if (has_opt(argc, argv, "--fork")) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			alarm(20); /* a hang in the child is the bug this looks for */
			ret = verify_chain(tl, chain, n, crt1, api, &status);
			if (ret < 0)
				_exit(fail("verify in the child", ret));
			_exit(report("child", status));
		}
		int ws;
		alarm(30);
		if (waitpid(pid, &ws, 0) < 0) {
			perror("waitpid");
			return 2;
		}
		if (WIFSIGNALED(ws)) {
			printf("child: killed by signal %d\n", WTERMSIG(ws));
			return 2;
		}
		if (WEXITSTATUS(ws) != 0)
			rc = WEXITSTATUS(ws);
	}
	for (unsigned int i = 0; i < n; i++)
		gnutls_x509_crt_deinit(chain[i]);
	gnutls_free(chain);
	gnutls_x509_trust_list_deinit(tl, 1);
	gnutls_free(getissuer_pem.data);
	return rc;
}

static const char *tls_who = "tls"; /* label of cmd_tls's report */

static int cmd_tls(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	int peers3 = has_opt(argc, argv, "--peers3"), autov = has_opt(argc, argv, "--auto"),
	    install = has_opt(argc, argv, "--install");
	gnutls_certificate_credentials_t cred;
	int ret = gnutls_certificate_allocate_credentials(&cred);
	if (ret < 0)
		return fail("credentials", ret);
	ret = gnutls_certificate_set_x509_trust_file(cred, argv[2], GNUTLS_X509_FMT_PEM);
	if (ret <= 0)
		return fail("loading the root", ret < 0 ? ret : GNUTLS_E_NO_CERTIFICATE_FOUND);
	if (install && (ret = revocheck_gnutls_install(cred)) < 0)
		return fail("revocheck_gnutls_install", ret);

	gnutls_session_t session;
	if ((ret = gnutls_init(&session, GNUTLS_CLIENT)) < 0)
		return fail("session", ret);
	gnutls_set_default_priority(session);
	gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred);
	if (autov)
		gnutls_session_set_verify_cert(session, "127.0.0.1", 0);

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 2;
	}
	gnutls_transport_set_int(session, fd);
	gnutls_handshake_set_timeout(session, 20000);
	do {
		ret = gnutls_handshake(session);
	} while (ret < 0 && gnutls_error_is_fatal(ret) == 0);

	int rc;
	if (ret < 0) {
		unsigned int st = autov ? gnutls_session_get_verify_cert_status(session) : 0;
		printf("handshake: %s\n", gnutls_strerror(ret));
		rc = st ? report(tls_who, st) : 1;
		if (!st && ret != GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR &&
		    ret != GNUTLS_E_CERTIFICATE_ERROR)
			rc = 2;
	} else {
		unsigned int status = 0;
		if (peers3)
			ret = gnutls_certificate_verify_peers3(session, "127.0.0.1", &status);
		else
			ret = gnutls_certificate_verify_peers2(session, &status);
		if (ret < 0)
			return fail("verify_peers", ret);
		rc = report(tls_who, status);
		gnutls_bye(session, GNUTLS_SHUT_WR);
	}
	close(fd);
	gnutls_deinit(session);
	gnutls_certificate_free_credentials(cred);
	return rc;
}

/* --forks N: N children at once, each making cmd_tls's connection. */
static int tls_forks(int argc, char **argv, int n)
{
	static char label[64];
	pid_t pids[256];
	int accepted = 0, refused = 0, failed = 0;
	if (n < 1 || n > 256)
		return 2;
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fork");
			return 2;
		}
		if (pids[i] == 0) {
			alarm(20); /* a hang in a child is a bug this looks for */
			snprintf(label, sizeof label, "child %d", i);
			tls_who = label;
			int rc = cmd_tls(argc, argv);
			fflush(stdout);
			_exit(rc);
		}
	}
	for (int i = 0; i < n; i++) {
		int ws;
		while (waitpid(pids[i], &ws, 0) < 0) {
			perror("waitpid");
			return 2;
		}
		if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
			accepted++;
		else if (WIFEXITED(ws) && WEXITSTATUS(ws) == 1)
			refused++;
		else
			failed++;
	}
	printf("children: %d accepted, %d refused, %d failed\n", accepted, refused, failed);
	return failed ? 2 : refused ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (gnutls_global_init() < 0)
		return 2;
	int rc = 2;
	if (argc >= 2 && strcmp(argv[1], "chain") == 0)
		rc = cmd_chain(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "tls") == 0) {
		int forks = 0;
		for (int i = 1; i + 1 < argc; i++)
			if (strcmp(argv[i], "--forks") == 0)
				forks = atoi(argv[i + 1]);
		if (forks > 0)
			tls_who = "parent";
		rc = cmd_tls(argc, argv);
		if (forks > 0) {
			int crc = tls_forks(argc, argv, forks);
			rc = crc > rc ? crc : rc;
		}
	}
	else
		fprintf(stderr, "usage: gnutls-verify-driver chain ROOT CHAIN [--crt1|--api] [--fork] [--getissuer FILE]\n"
		                "       gnutls-verify-driver tls ROOT PORT [--peers3|--auto|--install] [--forks N]\n");
	gnutls_global_deinit();
	return rc;
}
