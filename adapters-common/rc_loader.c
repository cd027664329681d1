/*
 * rc_loader.c — lazy, fork-safe access to librevocheck.so (see rc_loader.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* secure_getenv, dladdr */
#endif
#include "rc_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define RC_SONAME "librevocheck.so.0"

/* Incremented in every forked child. A loader remembers the epoch it loaded
 * the library in; a different epoch means "this is a forked child". Cheaper
 * than getpid() on every check, and exact. */
static volatile unsigned rc_fork_epoch;
static pthread_once_t rc_atfork_once = PTHREAD_ONCE_INIT;

/* Loaders of this adapter, so a forked child can reset their locks: a fork
 * while another thread held one (say, during the first load) would leave
 * the child's copy locked forever. */
#define RC_MAX_LOADERS 8
static rc_loader *rc_loaders[RC_MAX_LOADERS];
static int rc_nloaders;
static pthread_mutex_t rc_loaders_lock = PTHREAD_MUTEX_INITIALIZER;

static void rc_atfork_child(void)
{
	rc_fork_epoch++;
	/* Only this thread exists in the child: re-initialising is safe, and
	 * the loaders are marked unavailable by the epoch check. */
	pthread_mutex_init(&rc_loaders_lock, NULL);
	for (int i = 0; i < rc_nloaders; i++)
		pthread_mutex_init(&rc_loaders[i]->lock, NULL);
}

static void rc_register_atfork(void)
{
	pthread_atfork(NULL, NULL, rc_atfork_child);
}

static void copy_str(char *dst, size_t size, const char *src)
{
	if (src == NULL)
		src = "";
	snprintf(dst, size, "%s", src);
}

void rc_loader_init(rc_loader *l, const char *component)
{
	pthread_once(&rc_atfork_once, rc_register_atfork);
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_lock(&rc_loaders_lock);
	int known = 0;
	for (int i = 0; i < rc_nloaders; i++)
		known |= rc_loaders[i] == l;
	if (!known && rc_nloaders < RC_MAX_LOADERS)
		rc_loaders[rc_nloaders++] = l;
	pthread_mutex_unlock(&rc_loaders_lock);
	l->component = component;
	l->unavailable_allow = 1;
	/* secure_getenv: in a setuid/setgid process (reached through
	 * /etc/ld.so.preload or a system-wide openssl.cnf) the caller's
	 * environment must not choose the library we dlopen. */
	const char *dbg = secure_getenv("REVOCHECK_DEBUG");
	l->debug = dbg != NULL && *dbg != '\0' && strcmp(dbg, "0") != 0;
	copy_str(l->library, sizeof l->library, secure_getenv("REVOCHECK_LIBRARY"));
}

void rc_loader_set_library(rc_loader *l, const char *path)
{
	copy_str(l->library, sizeof l->library, path);
}

void rc_loader_set_config(rc_loader *l, const char *path)
{
	copy_str(l->config, sizeof l->config, path);
}

void rc_loader_add_override(rc_loader *l, const char *key, const char *value)
{
	size_t n = strlen(l->overrides);
	if (key == NULL || value == NULL)
		return;
	int w = snprintf(l->overrides + n, sizeof l->overrides - n, "%s%s=%s", n ? ";" : "", key,
	                 value);
	if (w < 0 || (size_t)w >= sizeof l->overrides - n) {
		l->overrides[n] = '\0'; /* never pass a truncated pair */
		rc_log(l, "ignoring override %s: too long", key);
	}
}

static void rc_vlog(rc_loader *l, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (l->use_syslog)
		syslog(LOG_WARNING, "revocheck (%s): %s", l->component, msg);
	else
		fprintf(stderr, "revocheck (%s): %s\n", l->component, msg);
}

void rc_log(rc_loader *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rc_vlog(l, fmt, ap);
	va_end(ap);
}

void rc_debug(rc_loader *l, const char *fmt, ...)
{
	if (!l->debug)
		return;
	va_list ap;
	va_start(ap, fmt);
	rc_vlog(l, fmt, ap);
	va_end(ap);
}

/* dlopen with RTLD_NODELETE: a Go runtime can never be unloaded. */
static void *try_dlopen(rc_loader *l, const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (h == NULL)
		rc_debug(l, "dlopen %s: %s", path, dlerror());
	else
		rc_debug(l, "loaded %s", path);
	return h;
}

/* Order: explicit path; the directory this adapter was loaded from (so a
 * build tree or a private prefix works); the system search path. */
static void *open_library(rc_loader *l)
{
	if (l->library[0] != '\0')
		return try_dlopen(l, l->library);
	Dl_info info;
	if (dladdr((void *)rc_loader_init, &info) != 0 && info.dli_fname != NULL) {
		char self[RC_PATH_MAX], path[RC_PATH_MAX + 32];
		copy_str(self, sizeof self, info.dli_fname);
		snprintf(path, sizeof path, "%s/%s", dirname(self), RC_SONAME);
		if (access(path, R_OK) == 0) {
			void *h = try_dlopen(l, path);
			if (h != NULL)
				return h;
		}
	}
	return try_dlopen(l, RC_SONAME);
}

#define RC_SYM(field, name)                                      \
	do {                                                     \
		*(void **)(&l->field) = dlsym(l->dl, name);      \
		if (l->field == NULL)                            \
			return 0;                                \
	} while (0)

static int resolve(rc_loader *l)
{
	RC_SYM(runtime_pid, "revocheck_runtime_pid");
	RC_SYM(open, "revocheck_open");
	RC_SYM(close, "revocheck_close");
	RC_SYM(check_der, "revocheck_check_der");
	RC_SYM(check_issuer_serial, "revocheck_check_issuer_serial");
	RC_SYM(errmsg, "revocheck_errmsg");
	RC_SYM(outcome_string, "revocheck_outcome_string");
	return 1;
}

static const char *reason_text(int reason)
{
	switch (reason) {
	case RC_NO_LIBRARY:
		return "librevocheck.so could not be loaded";
	case RC_OPEN_FAILED:
		return "the revocheck configuration could not be opened";
	case RC_FORKED:
		return "this process was forked after revocheck started; the Go runtime does not survive fork";
	default:
		return "unavailable";
	}
}

static void load_inlock(rc_loader *l)
{
	l->dl = open_library(l);
	if (l->dl == NULL || !resolve(l)) {
		l->state = -1;
		l->reason = RC_NO_LIBRARY;
		return;
	}
	/* Another adapter (or the program) may have loaded it in a parent
	 * process: the library records where its Go runtime started. */
	if (l->runtime_pid() != (long)getpid()) {
		l->state = -1;
		l->reason = RC_FORKED;
		return;
	}
	revocheck_handle h = 0;
	int rc = l->open(l->config[0] ? l->config : NULL, l->overrides, &h);
	if (rc != REVOCHECK_OK) {
		char msg[256];
		l->errmsg(0, msg, sizeof msg);
		rc_log(l, "revocheck_open failed: %s", msg);
		l->state = -1;
		l->reason = RC_OPEN_FAILED;
		return;
	}
	l->handle = h;
	l->pid = getpid();
	__atomic_store_n(&l->state, 1, __ATOMIC_RELEASE);
}

static unsigned loaded_epoch; /* rc_fork_epoch when some loader loaded the library */

/* Returns 1 when the library may be called from this process. */
static int ready(rc_loader *l)
{
	if (__atomic_load_n(&l->state, __ATOMIC_ACQUIRE) == 1 && loaded_epoch == rc_fork_epoch)
		return 1;
	pthread_mutex_lock(&l->lock);
	if (l->state == 1 && loaded_epoch != rc_fork_epoch) {
		/* Parent started Go, we are its forked child: never call in. */
		l->state = -1;
		l->reason = RC_FORKED;
	}
	if (l->state == 0) {
		load_inlock(l);
		if (l->state == 1)
			loaded_epoch = rc_fork_epoch;
	}
	int ok = l->state == 1;
	if (!ok && !l->logged) {
		l->logged = 1;
		rc_log(l, "%s; %s connections per policy", reason_text(l->reason),
		       l->unavailable_allow ? "allowing" : "refusing");
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

static void unavailable_result(rc_loader *l, revocheck_result *res)
{
	res->outcome = REVOCHECK_OUTCOME_NO_DATA;
	res->allowed = l->unavailable_allow;
}

int rc_check_der(rc_loader *l, const uint8_t *cert, size_t cert_len, const uint8_t *issuer,
                 size_t issuer_len, revocheck_result *res)
{
	if (!ready(l)) {
		unavailable_result(l, res);
		return 0;
	}
	l->check_der(l->handle, cert, cert_len, issuer, issuer_len, res);
	return 1;
}

int rc_check_issuer_serial(rc_loader *l, const uint8_t *issuer_name, size_t name_len,
                           const uint8_t *serial, size_t serial_len, revocheck_result *res)
{
	if (!ready(l)) {
		unavailable_result(l, res);
		return 0;
	}
	l->check_issuer_serial(l->handle, issuer_name, name_len, serial, serial_len, res);
	return 1;
}

const char *rc_outcome_name(int32_t outcome)
{
	static const char *const names[] = {
		[REVOCHECK_OUTCOME_REVOKED] = "revoked",
		[REVOCHECK_OUTCOME_NOT_REVOKED] = "not_revoked",
		[REVOCHECK_OUTCOME_NOT_ENROLLED] = "not_enrolled",
		[REVOCHECK_OUTCOME_NOT_COVERED] = "not_covered",
		[REVOCHECK_OUTCOME_NO_DATA] = "no_data",
		[REVOCHECK_OUTCOME_STALE] = "stale",
		[REVOCHECK_OUTCOME_ERROR] = "error",
	};
	if (outcome < 1 || outcome > REVOCHECK_OUTCOME_ERROR)
		return "unknown";
	return names[outcome];
}

void rc_loader_shutdown(rc_loader *l)
{
	pthread_mutex_lock(&l->lock);
	if (l->state == 1 && loaded_epoch == rc_fork_epoch)
		l->close(l->handle);
	if (l->state == 1 && loaded_epoch == rc_fork_epoch)
		l->state = 0; /* a later check (re-initialised module) may open again */
	l->handle = 0;
	pthread_mutex_unlock(&l->lock);
}
