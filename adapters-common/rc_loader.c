/*
 * rc_loader.c — lazy, fork-safe access to librevocheck.so (see rc_loader.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* secure_getenv, dladdr */
#endif
#include "rc_loader.h"
#include "rc_daemon.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define RC_SONAME "librevocheck.so.0"

/* Incremented in every forked child. A loader remembers the epoch it loaded
 * the library in; a different epoch means "this is a forked child". Cheaper
 * than getpid() on every check, and exact. */
volatile unsigned rc_fork_epoch;
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
	for (int i = 0; i < rc_nloaders; i++) {
		pthread_mutex_init(&rc_loaders[i]->lock, NULL);
		pthread_mutex_init(&rc_loaders[i]->conn_lock, NULL);
	}
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
	pthread_mutex_init(&l->conn_lock, NULL);
	l->conn_fd = -1;
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
	const char *sock = secure_getenv("REVOCHECK_SOCKET");
	rc_loader_set_socket(l, sock != NULL ? sock : RC_DEFAULT_SOCKET);
}

void rc_loader_set_socket(rc_loader *l, const char *path)
{
	copy_str(l->socket, sizeof l->socket,
	         path != NULL && strcmp(path, "none") == 0 ? "" : path);
	l->daemon = 0;
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
	if (strcmp(key, "socket") == 0) { /* ours, not a revocheck_open key */
		rc_loader_set_socket(l, value);
		return;
	}
	int w = snprintf(l->overrides + n, sizeof l->overrides - n, "%s%s=%s", n ? ";" : "", key,
	                 value);
	if (w < 0 || (size_t)w >= sizeof l->overrides - n) {
		l->overrides[n] = '\0'; /* never pass a truncated pair */
		rc_log(l, "ignoring override %s: too long", key);
	}
}

/* One syslog message, ident "revocheck", written to the log socket
 * directly: openlog() would change the host's own ident (sudo's, sshd's
 * lines would then read "revocheck"). No socket: the message is dropped. */
static void rc_syslog(const char *component, const char *msg)
{
	const char *path = secure_getenv("REVOCHECK_LOG_SOCKET");
	if (path == NULL || *path == '\0')
		path = "/dev/log";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	char line[768], ts[32] = "";
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm) != NULL)
		strftime(ts, sizeof ts, "%b %e %H:%M:%S ", &tm);
	int n = snprintf(line, sizeof line, "<%d>%srevocheck[%d]: %s: %s", LOG_USER | LOG_WARNING, ts,
	                 (int)getpid(), component, msg);
	if (n <= 0)
		return;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	sendto(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, MSG_NOSIGNAL,
	       (struct sockaddr *)&sa, sizeof sa);
	close(fd);
}

static void rc_vlog(rc_loader *l, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (l->use_syslog)
		rc_syslog(l->component, msg);
	else
		fprintf(stderr, "revocheck (%s): %s\n", l->component, msg);
}

void rc_notice(rc_loader *l, unsigned state, const char *fmt, ...)
{
	if (__atomic_fetch_or(&l->noted, state, __ATOMIC_ACQ_REL) & state)
		return; /* said once per process per state */
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rc_syslog(l->component, msg);
	if (l->debug)
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
 * build tree works); $(libdir) compiled in (the OpenSSL provider lives in
 * OpenSSL's module directory, not beside the library); the system search
 * path. */
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
#ifdef REVOCHECK_LIBDIR
	{
		char path[RC_PATH_MAX + 32];
		snprintf(path, sizeof path, "%s/%s", REVOCHECK_LIBDIR, RC_SONAME);
		if (access(path, R_OK) == 0) {
			void *h = try_dlopen(l, path);
			if (h != NULL)
				return h;
		}
	}
#endif
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
	*(void **)(&l->state_fn) = dlsym(l->dl, "revocheck_state");
	*(void **)(&l->cache_origin) = dlsym(l->dl, "revocheck_cache_origin");
	*(void **)(&l->find_issuers) = dlsym(l->dl, "revocheck_find_issuers");
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
	/* Opened despite configuration problems (those settings keep their
	 * defaults): a misconfiguration, said once per process. */
	char problems[384] = "";
	int em = l->errmsg(h, problems, sizeof problems);
	if ((em == REVOCHECK_OK || em == REVOCHECK_ERR_RANGE) && problems[0] != '\0')
		rc_log(l, "%s; those settings keep their defaults (see `revocheck config`)", problems);
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
	pthread_mutex_unlock(&l->lock);
	return ok;
}

/* The library is loaded and may be called: then it answers directly (a
 * call is ~1 us; the daemon would be a round trip). */
static int library_ready(rc_loader *l)
{
	return __atomic_load_n(&l->state, __ATOMIC_ACQUIRE) == 1 && loaded_epoch == rc_fork_epoch;
}

/* The library cannot answer in this process. A forked child asks a fresh
 * helper process; otherwise, or when that fails too, the unavailable
 * policy answers (logged once per process). */
static int unavailable(rc_loader *l, uint8_t kind, const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen, revocheck_result *res)
{
	pthread_mutex_lock(&l->lock);
	int reason = l->reason;
	pthread_mutex_unlock(&l->lock);
	const char *why = NULL;
	if (reason == RC_FORKED && rc_helper_check(l, kind, a, alen, b, blen, res, &why))
		return 1;
	if (!__atomic_exchange_n(&l->logged, 1, __ATOMIC_ACQ_REL)) {
		if (reason == RC_FORKED)
			rc_log(l, "%s, and the helper process could not answer: %s; %s connections per policy",
			       reason_text(reason), why,
			       l->unavailable_allow ? "allowing" : "refusing");
		else
			rc_log(l, "%s; %s connections per policy", reason_text(reason),
			       l->unavailable_allow ? "allowing" : "refusing");
	}
	res->outcome = REVOCHECK_OUTCOME_NO_DATA;
	res->allowed = l->unavailable_allow;
	return 0;
}

/* policy.ct: a certificate failing the CT policy is a normal state of a
 * working system (report mode exists to find them), so syslog once per
 * process, whoever answered: the daemon, the library or the helper. */
static void note_ct(rc_loader *l, const revocheck_result *res)
{
	if (res->outcome != REVOCHECK_OUTCOME_CT_NONCOMPLIANT ||
	    (__atomic_load_n(&l->noted, __ATOMIC_ACQUIRE) & RC_NOTE_CT))
		return;
	rc_notice(l, RC_NOTE_CT,
	          "a certificate's embedded SCTs do not satisfy the Certificate Transparency policy; %s it "
	          "(policy.ct = %s); `revocheck check --set policy.ct=report` on the chain shows each SCT",
	          res->allowed ? "allowing" : "refusing", res->allowed ? "report" : "enforce");
}

int rc_check_der(rc_loader *l, const uint8_t *cert, size_t cert_len, const uint8_t *issuer,
                 size_t issuer_len, revocheck_result *res)
{
	int r;
	if (!library_ready(l) && rc_daemon_ask(l, RC_PROTO_KIND_DER, cert, cert_len, issuer, issuer_len, res)) {
		r = 1;
	} else if (!ready(l)) {
		r = unavailable(l, RC_PROTO_KIND_DER, cert, cert_len, issuer, issuer_len, res);
	} else {
		l->check_der(l->handle, cert, cert_len, issuer, issuer_len, res);
		r = 1;
	}
	note_ct(l, res);
	return r;
}

int rc_check_issuer_serial(rc_loader *l, const uint8_t *issuer_name, size_t name_len,
                           const uint8_t *serial, size_t serial_len, revocheck_result *res)
{
	if (!library_ready(l) && rc_daemon_ask(l, RC_PROTO_KIND_ISSUER_SERIAL, issuer_name, name_len, serial, serial_len, res))
		return 1;
	if (!ready(l))
		return unavailable(l, RC_PROTO_KIND_ISSUER_SERIAL, issuer_name, name_len, serial, serial_len, res);
	l->check_issuer_serial(l->handle, issuer_name, name_len, serial, serial_len, res);
	return 1;
}

int rc_state(rc_loader *l, char *msg, size_t size)
{
	int daemon_ready = 0;
	if (!library_ready(l) && rc_daemon_state_line(l, &daemon_ready, msg, size))
		return daemon_ready;
	if (!ready(l)) {
		pthread_mutex_lock(&l->lock);
		int reason = l->reason;
		pthread_mutex_unlock(&l->lock);
		if (reason == RC_FORKED) {
			/* The Go runtime stayed in the parent; checks run the helper. */
			snprintf(msg, size, "ready (forked child: each check runs `revocheck check --request`)");
			return 1;
		}
		snprintf(msg, size, "library unusable (%s); unavailable policy: %s", reason_text(reason),
		         l->unavailable_allow ? "allow" : "deny");
		return 0;
	}
	if (l->state_fn == NULL) {
		snprintf(msg, size, "ready (this librevocheck.so does not report its state)");
		return 1;
	}
	int32_t ok = 0;
	int rc = l->state_fn(l->handle, &ok, msg, size);
	if (rc != REVOCHECK_OK && rc != REVOCHECK_ERR_RANGE) {
		snprintf(msg, size, "librevocheck.so could not report its state (%d)", rc);
		return 0;
	}
	return ok == 1;
}

void rc_cache_source(rc_loader *l, char *buf, size_t size)
{
	if (library_ready(l) && l->cache_origin != NULL) {
		int rc = l->cache_origin(l->handle, buf, size);
		if (rc == REVOCHECK_OK || rc == REVOCHECK_ERR_RANGE)
			return;
	}
	if (__atomic_load_n(&l->daemon, __ATOMIC_ACQUIRE) == 1)
		snprintf(buf, size, "the cache of the check daemon at %s", l->socket);
	else
		snprintf(buf, size, "cache as `revocheck status` shows");
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
		[REVOCHECK_OUTCOME_CT_NONCOMPLIANT] = "ct_noncompliant",
	};
	if (outcome < 1 || outcome > REVOCHECK_OUTCOME_LAST)
		return "unknown";
	return names[outcome];
}

void rc_loader_shutdown(rc_loader *l)
{
	pthread_mutex_lock(&l->conn_lock);
	if (l->conn_fd >= 0 && l->conn_epoch == rc_fork_epoch)
		close(l->conn_fd);
	l->conn_fd = -1; /* a forked child's copy is closed at exit */
	pthread_mutex_unlock(&l->conn_lock);
	pthread_mutex_lock(&l->lock);
	if (l->state == 1 && loaded_epoch == rc_fork_epoch)
		l->close(l->handle);
	if (l->state == 1 && loaded_epoch == rc_fork_epoch)
		l->state = 0; /* a later check (re-initialised module) may open again */
	l->handle = 0;
	pthread_mutex_unlock(&l->lock);
}

/* ---- preloaded intermediates ----------------------------------------- */

int rc_find_issuers(rc_loader *l, const unsigned char *cert, size_t cert_len, unsigned char *buf,
                    size_t size, size_t *len)
{
	*len = 0;
	if (cert == NULL || cert_len == 0 || buf == NULL)
		return 0;
	int count = 0;
	if (!library_ready(l) && rc_daemon_issuers(l, cert, cert_len, buf, size, len, &count)) {
		rc_debug(l, "the daemon offers %d intermediate(s) for a missing issuer", count);
		return count;
	}
	/* A forked child never calls into Go, and the helper does not answer
	 * this: it gets none, as without revocheck. */
	if (!ready(l) || l->find_issuers == NULL)
		return 0;
	int32_t n = 0;
	size_t used = 0;
	int rc = l->find_issuers(l->handle, cert, cert_len, buf, size, &used, &n);
	if (rc != REVOCHECK_OK || n <= 0) {
		if (rc != REVOCHECK_OK)
			rc_debug(l, "revocheck_find_issuers: %d", rc);
		return 0;
	}
	rc_debug(l, "the preloaded set offers %d intermediate(s) for a missing issuer", (int)n);
	*len = used;
	return n;
}
