/*
 * curl_gnutls.c — fetches a URL with libcurl's GnuTLS back end
 * (libcurl-gnutls.so.4 from libcurl3-gnutls), for the GnuTLS hook tests.
 *
 *   curl-gnutls-driver CAFILE URL [--insecure]
 *
 * Prints the TLS back end, then the body on success, or
 * "curl error N: <message>" on failure. Exit: 0 fetched, 1 refused/failed,
 * 2 not the GnuTLS back end or setup error.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

static size_t write_body(char *data, size_t size, size_t n, void *user)
{
	(void)user;
	return fwrite(data, size, n, stdout) * size;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: curl-gnutls-driver CAFILE URL [--insecure]\n");
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 2;
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	printf("tls backend: %s\n", v->ssl_version ? v->ssl_version : "none");
	if (v->ssl_version == NULL || strstr(v->ssl_version, "GnuTLS") == NULL) {
		fprintf(stderr, "curl-gnutls-driver: not linked to the GnuTLS back end\n");
		return 2;
	}
	CURL *c = curl_easy_init();
	if (c == NULL)
		return 2;
	char err[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, argv[2]);
	curl_easy_setopt(c, CURLOPT_CAINFO, argv[1]);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (argc > 3 && strcmp(argv[3], "--insecure") == 0)
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		printf("curl error %d: %s\n", (int)rc, err[0] ? err : curl_easy_strerror(rc));
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return rc == CURLE_OK ? 0 : 1;
}
