/*
 * params.c — module parameters: modutil -string "cache-dir=DIR log=syslog",
 * NSS's LibraryParameters, or p11-kit's x-init-reserved.
 */
#include "nssrc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The module's own settings are taken here; every other key is passed
 * through to revocheck_open as an override, unread: the library knows the
 * configuration keys, judges the values and reports what it could not set
 * (one line, rc_loader). */
static int apply(rc_loader *l, const char *key, const char *value)
{
	if (strcmp(key, "config") == 0) {
		rc_loader_set_config(l, value);
	} else if (strcmp(key, "library") == 0) {
		rc_loader_set_library(l, value);
	} else if (strcmp(key, "socket") == 0) {
		rc_loader_set_socket(l, value);
	} else if (strcmp(key, "log") == 0) {
		/* comma list: stderr | syslog, and debug */
		char buf[RC_PATH_MAX];
		snprintf(buf, sizeof buf, "%s", value);
		for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			if (strcasecmp(tok, "syslog") == 0)
				l->use_syslog = 1;
			else if (strcasecmp(tok, "stderr") == 0)
				l->use_syslog = 0;
			else if (strcasecmp(tok, "debug") == 0)
				l->debug = 1;
			else
				rc_log(l, "module parameter log=%s: unknown value %s", value, tok);
		}
	} else {
		rc_loader_add_override(l, key, value);
	}
	return 0;
}

int nssrc_parse_params(rc_loader *l, const char *params)
{
	char key[64], value[RC_PATH_MAX];
	const char *p = params;
	if (p == NULL)
		return 0;
	for (;;) {
		while (*p == ';' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return 0;
		size_t k = 0;
		while (*p != '\0' && *p != '=' && *p != ';' && !isspace((unsigned char)*p)) {
			if (k + 1 >= sizeof key)
				return -1;
			key[k++] = *p++;
		}
		key[k] = '\0';
		if (*p != '=' || k == 0)
			return -1;
		p++;
		size_t v = 0;
		if (*p == '"') {
			p++;
			while (*p != '\0' && *p != '"') {
				if (v + 1 >= sizeof value)
					return -1;
				value[v++] = *p++;
			}
			if (*p != '"')
				return -1;
			p++;
		} else {
			while (*p != '\0' && *p != ';' && !isspace((unsigned char)*p)) {
				if (v + 1 >= sizeof value)
					return -1;
				value[v++] = *p++;
			}
		}
		value[v] = '\0';
		apply(l, key, value);
	}
}
