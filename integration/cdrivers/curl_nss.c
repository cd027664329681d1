/*
 * curl_nss.c — fetches a URL with libcurl's NSS back end
 * (libcurl-nss.so.4 from libcurl3-nss), for the NSS trust module tests.
 *
 *   curl-nss-driver URL
 *
 * The NSS database comes from the environment, as for any libcurl-nss
 * program: SSL_DIR=DIR (a plain directory: libcurl stats it, then opens
 * "sql:DIR"). The library is opened with dlopen (path from
 * $CURL_NSS_LIBRARY, default the Debian multiarch path), so the driver needs
 * no link-time dependency on it.
 *
 * CURL_NSS_VERBOSE=1 turns on libcurl's verbose log.
 *
 * Prints the TLS back end, then the body on success, or
 * "curl error N: <message>" on failure. Exit: 0 fetched, 1 refused/failed,
 * 2 not the NSS back end or setup error, 77 library missing.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define DEFAULT_LIB "/usr/lib/x86_64-linux-gnu/libcurl-nss.so.4"

static struct {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	curl_version_info_data *(*version_info)(CURLversion);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
} cu;

static size_t write_body(char *data, size_t size, size_t n, void *user)
{
	(void)user;
	return fwrite(data, size, n, stdout) * size;
}

#define SYM(field, name)                                                      \
	do {                                                                  \
		*(void **)(&cu.field) = dlsym(h, name);                       \
		if (cu.field == NULL) {                                       \
			fprintf(stderr, "curl-nss-driver: %s: %s\n", name, dlerror()); \
			return 2;                                             \
		}                                                             \
	} while (0)

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: SSL_DIR=DIR curl-nss-driver URL\n");
		return 2;
	}
	const char *lib = getenv("CURL_NSS_LIBRARY");
	if (lib == NULL || *lib == '\0')
		lib = DEFAULT_LIB;
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr, "curl-nss-driver: %s\n", dlerror());
		return 77;
	}
	SYM(global_init, "curl_global_init");
	SYM(global_cleanup, "curl_global_cleanup");
	SYM(version_info, "curl_version_info");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");

	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 2;
	const curl_version_info_data *v = cu.version_info(CURLVERSION_NOW);
	printf("tls backend: %s\n", v->ssl_version ? v->ssl_version : "none");
	if (v->ssl_version == NULL || strstr(v->ssl_version, "NSS") == NULL) {
		fprintf(stderr, "curl-nss-driver: not the NSS back end\n");
		return 2;
	}
	CURL *c = cu.easy_init();
	if (c == NULL)
		return 2;
	char err[CURL_ERROR_SIZE] = "";
	cu.easy_setopt(c, CURLOPT_URL, argv[1]);
	/* Trust comes from the NSS database in SSL_DIR only: no PEM CA file
	 * (libcurl-nss would need nss-pem for it). */
	cu.easy_setopt(c, CURLOPT_CAINFO, (char *)NULL);
	cu.easy_setopt(c, CURLOPT_CAPATH, (char *)NULL);
	cu.easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
	cu.easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (getenv("CURL_NSS_VERBOSE") != NULL)
		cu.easy_setopt(c, CURLOPT_VERBOSE, 1L);
	CURLcode rc = cu.easy_perform(c);
	if (rc != CURLE_OK)
		printf("curl error %d: %s\n", (int)rc, err[0] ? err : cu.easy_strerror(rc));
	cu.easy_cleanup(c);
	cu.global_cleanup();
	return rc == CURLE_OK ? 0 : 1;
}
