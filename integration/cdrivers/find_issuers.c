/*
 * find_issuers.c — revocheck_find_issuers through the public header only:
 * asks for the candidates for CERT's missing issuer, first with a buffer of
 * 1 byte (expects REVOCHECK_ERR_RANGE and the size needed when there are
 * candidates), then with one of that size, and writes them to OUT.
 *
 * usage: find_issuers CACHE_DIR CERT.der OUT.der [OVERRIDES]
 * prints: "rc R count N len L" for the second call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "revocheck.h"

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	FILE *f = fopen(argv[2], "rb");
	if (f == NULL)
		return 2;
	static unsigned char cert[65536];
	size_t cert_len = fread(cert, 1, sizeof cert, f);
	fclose(f);
	char ov[4096];
	snprintf(ov, sizeof ov, "cache-dir=%s%s%s", argv[1], argc > 4 ? ";" : "", argc > 4 ? argv[4] : "");
	revocheck_handle h;
	if (revocheck_open(NULL, ov, &h) != REVOCHECK_OK)
		return 3;
	unsigned char one[1];
	size_t need = 0;
	int32_t count = -1;
	int rc = revocheck_find_issuers(h, cert, cert_len, one, sizeof one, &need, &count);
	if (rc == REVOCHECK_ERR_RANGE) {
		if (count != 0 || need <= 1) {
			printf("bad range answer: count %d need %zu\n", (int)count, need);
			return 4;
		}
	} else if (rc != REVOCHECK_OK && rc != REVOCHECK_ERR_INVALID) {
		printf("first call: rc %d\n", rc);
		return 4;
	}
	size_t size = need > 0 ? need : 1;
	unsigned char *buf = malloc(size);
	size_t len = 0;
	rc = revocheck_find_issuers(h, cert, cert_len, buf, size, &len, &count);
	printf("rc %d count %d len %zu\n", rc, (int)count, len);
	if (rc == REVOCHECK_OK && len > 0) {
		FILE *o = fopen(argv[3], "wb");
		if (o == NULL || fwrite(buf, 1, len, o) != len)
			return 5;
		fclose(o);
	}
	/* Bad arguments are errors, not crashes. */
	if (revocheck_find_issuers(h, NULL, 0, buf, size, &len, &count) != REVOCHECK_ERR_INVALID ||
	    revocheck_find_issuers(h, cert, cert_len, buf, size, NULL, &count) != REVOCHECK_ERR_INVALID ||
	    revocheck_find_issuers(h + 1000, cert, cert_len, buf, size, &len, &count) != REVOCHECK_ERR_BADHANDLE) {
		printf("bad arguments not refused\n");
		return 6;
	}
	free(buf);
	revocheck_close(h);
	return 0;
}
