/*
 * rc_find.c — rc_find_issuers (adapters-common/rc_loader.c) as an adapter
 * calls it: the check daemon first, else librevocheck.so in-process; with
 * "fork", again in a forked child (which must never call into the parent's
 * Go runtime: it asks the daemon, or gets none).
 *
 * usage: rc_find LIBRARY SOCKET|none CACHE_DIR CERT.der OUT.der [fork]
 * prints "parent COUNT LEN" (and "child COUNT LEN"); writes the parent's
 * candidates to OUT.der.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rc_loader.h"

static rc_loader L;
static unsigned char buf[65536];

int main(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	FILE *f = fopen(argv[4], "rb");
	if (f == NULL)
		return 2;
	static unsigned char cert[65536];
	size_t cert_len = fread(cert, 1, sizeof cert, f);
	fclose(f);
	rc_loader_init(&L, "rc_find");
	rc_loader_set_library(&L, argv[1]);
	rc_loader_set_socket(&L, argv[2]);
	rc_loader_add_override(&L, "cache-dir", argv[3]);
	size_t len = 0;
	int n = rc_find_issuers(&L, cert, cert_len, buf, sizeof buf, &len);
	printf("parent %d %zu\n", n, len);
	fflush(stdout);
	FILE *o = fopen(argv[5], "wb");
	if (o == NULL || fwrite(buf, 1, len, o) != len)
		return 3;
	fclose(o);
	/* A buffer too small for the candidates: none, never a partial one. */
	size_t small = 0;
	if (n > 0 && rc_find_issuers(&L, cert, cert_len, buf, len - 1, &small) != 0) {
		printf("a short buffer returned candidates\n");
		return 4;
	}
	if (argc > 6 && strcmp(argv[6], "fork") == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			len = 0;
			n = rc_find_issuers(&L, cert, cert_len, buf, sizeof buf, &len);
			printf("child %d %zu\n", n, len);
			fflush(stdout);
			_exit(0);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 5;
	}
	rc_loader_shutdown(&L);
	return 0;
}
