/*
 * rc_loader.c — lazy, fork-safe access to librevocheck.so (see rc_loader.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* secure_getenv, dladdr */
#endif
#include "rc_loader.h"

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

/* ---- the check daemon ------------------------------------------------ */

/* Appends one "name=value" NUL-terminated string to the context. Returns
 * 0 when it does not fit. */
static int context_add(rc_loader *l, const char *name, size_t nlen, const char *value)
{
	if (value == NULL || *value == '\0')
		return 1;
	size_t n = l->context_len, vlen = strlen(value);
	if (n + nlen + 1 + vlen + 1 > sizeof l->context)
		return 0;
	memcpy(l->context + n, name, nlen);
	l->context[n + nlen] = '=';
	memcpy(l->context + n + nlen + 1, value, vlen + 1);
	l->context_len = n + nlen + 1 + vlen + 1;
	return 1;
}

/* Builds the request's context once (rc_protocol.h): this adapter's
 * config-file setting and the environment the library would read, via
 * secure_getenv. What does not fit is never dropped silently: the context
 * then says it is incomplete, and the receiver refuses it. Call with
 * l->lock held. */
static void build_context(rc_loader *l)
{
	if (l->context_built)
		return;
	l->context_built = 1;
	int ok = context_add(l, RC_PROTO_CONTEXT_CONFIG, strlen(RC_PROTO_CONTEXT_CONFIG), l->config);
	for (const char *p = RC_PROTO_CONTEXT_ENV; *p != '\0' && ok;) {
		size_t n = strcspn(p, " ");
		char name[64];
		if (n > 0 && n < sizeof name) {
			memcpy(name, p, n);
			name[n] = '\0';
			ok = context_add(l, name, n, secure_getenv(name));
		}
		p += n + (p[n] == ' ');
	}
	/* Whether this process sees its user config file: a fact only it can
	 * observe (the daemon cannot see our home), for the daemon to decide
	 * with. The names are rc_protocol.h's; the file is not opened. */
	const char *xdg = secure_getenv("XDG_CONFIG_HOME"), *home = secure_getenv("HOME");
	char uf[RC_PATH_MAX + 64];
	int n = -1;
	if (xdg != NULL && *xdg != '\0')
		n = snprintf(uf, sizeof uf, "%s/%s", xdg, RC_PROTO_USER_FILE_XDG);
	else if (home != NULL && *home != '\0')
		n = snprintf(uf, sizeof uf, "%s/%s", home, RC_PROTO_USER_FILE_HOME);
	if (n > 0 && (size_t)n >= sizeof uf)
		ok = 0; /* cannot look: say the context is incomplete */
	else if (ok && n > 0 && access(uf, F_OK) == 0)
		ok = context_add(l, RC_PROTO_CONTEXT_USER_FILE, strlen(RC_PROTO_CONTEXT_USER_FILE), "1");
	if (!ok) {
		rc_debug(l, "request context too long; the daemon and helper will refuse it");
		l->context_len = 0;
		context_add(l, RC_PROTO_CONTEXT_INCOMPLETE, strlen(RC_PROTO_CONTEXT_INCOMPLETE), "1");
	}
}

void rc_loader_context(rc_loader *l, const char **ctx, size_t *len)
{
	pthread_mutex_lock(&l->lock);
	build_context(l);
	*ctx = l->context;
	*len = l->context_len;
	pthread_mutex_unlock(&l->lock);
}

/* May this process ask the daemon at all? Whether the daemon serves this
 * adapter's configuration is the daemon's decision (it refuses what it
 * does not serve); here only the socket is judged. Sets why when not. */
static int daemon_eligible(rc_loader *l, const char **why)
{
	if (l->socket[0] == '\0') {
		*why = "no daemon socket configured";
		return 0;
	}
	if (strlen(l->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		*why = "the daemon socket path is too long";
		return 0;
	}
	/* Trust: only root (or we) can have put a listener in a directory
	 * that root (or we) own and nobody else can write. (No directory: the
	 * connect fails, and the library answers.) */
	char d[RC_PATH_MAX];
	copy_str(d, sizeof d, l->socket);
	struct stat st;
	if (stat(dirname(d), &st) == 0 &&
	    ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)) {
		rc_log(l, "not asking the daemon at %s: its directory is %s", l->socket,
		       (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ? "writable by others" : "owned by another user");
		*why = "untrusted socket directory";
		return 0;
	}
	return 1;
}

static int daemon_state(rc_loader *l)
{
	int st = __atomic_load_n(&l->daemon, __ATOMIC_ACQUIRE);
	if (st != 0)
		return st;
	pthread_mutex_lock(&l->lock);
	if (l->daemon == 0) {
		build_context(l);
		const char *why = NULL;
		int ok = daemon_eligible(l, &why);
		if (ok)
			rc_debug(l, "asking the daemon at %s first", l->socket);
		else if (l->socket[0] != '\0')
			rc_debug(l, "not asking the daemon at %s: %s", l->socket, why);
		__atomic_store_n(&l->daemon, ok ? 1 : -1, __ATOMIC_RELEASE);
	}
	st = l->daemon;
	pthread_mutex_unlock(&l->lock);
	return st;
}

/* Stop asking the daemon in this process (it refused or was too slow). */
static void daemon_off(rc_loader *l, const char *why)
{
	if (__atomic_exchange_n(&l->daemon, -1, __ATOMIC_ACQ_REL) == 1)
		rc_debug(l, "checking in-process from now on: the daemon at %s %s", l->socket, why);
}

/* Non-blocking connect: a missing socket is ENOENT, a stopped daemon
 * ECONNREFUSED, a saturated one EAGAIN; all answered in-process. Then the
 * socket blocks on receive for at most RC_DAEMON_TIMEOUT_MS
 * (SO_RCVTIMEO), so a round trip is two system calls (send, receive)
 * instead of three with poll: on a VM where one costs ~3 us, that is a
 * sixth of a round trip. Sends stay non-blocking (MSG_DONTWAIT). */
static int daemon_connect(rc_loader *l)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, l->socket, strlen(l->socket) + 1); /* length checked when eligible */
	struct timeval tv = {.tv_sec = RC_DAEMON_TIMEOUT_MS / 1000,
	                     .tv_usec = (RC_DAEMON_TIMEOUT_MS % 1000) * 1000};
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || fcntl(fd, F_SETFL, 0) != 0 || /* blocking again */
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends one request and reads its reply: 1 done, 0 the connection failed
 * (closed by the daemon, not running...), -1 no answer in time. */
static int daemon_roundtrip(int fd, struct msghdr *m, size_t total, uint8_t rep[RC_PROTO_REPLY_SIZE])
{
	if (sendmsg(fd, m, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)total)
		return 0;
	ssize_t n;
	do /* a signal restarts the wait (poll did the same) */
		n = recv(fd, rep, RC_PROTO_REPLY_SIZE, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1; /* SO_RCVTIMEO expired */
	return n == RC_PROTO_REPLY_SIZE && memcmp(rep, RC_PROTO_REPLY_MAGIC, 4) == 0;
}

/* One request to the daemon (protocol: rc_protocol.h). Returns 1
 * with *res set when it answered; 0 when it could not (not running, busy,
 * refused, too slow, garbled): then the caller checks in-process.
 *
 * One connection is kept per loader (a round trip on it is ~20 us on the
 * test VM, where a C server doing nothing takes ~15 us;
 * a fresh connection ~75 us); a thread that finds it busy uses a fresh one
 * rather than wait. A forked child never uses its parent's connection: it
 * closes its copy and opens its own. */
static int daemon_ask(rc_loader *l, uint8_t kind, const uint8_t *a, size_t alen, const uint8_t *b,
                      size_t blen, revocheck_result *res)
{
	if (daemon_state(l) != 1 || alen > RC_PROTO_MAX_PART || blen > RC_PROTO_MAX_PART)
		return 0;
	uint8_t hdr[RC_PROTO_HEADER_SIZE];
	size_t olen = strlen(l->overrides), clen = l->context_len; /* built by daemon_state */
	rc_proto_header(hdr, kind, olen, alen, blen, clen);
	struct iovec iov[5] = {{hdr, sizeof hdr},
	                       {l->overrides, olen},
	                       {(void *)a, alen},
	                       {(void *)b, blen},
	                       {l->context, clen}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 5};
	size_t total = sizeof hdr + olen + alen + blen + clen;
	uint8_t rep[RC_PROTO_REPLY_SIZE];
	int r = 0;
	if (pthread_mutex_trylock(&l->conn_lock) == 0) {
		if (l->conn_fd >= 0 && l->conn_epoch != rc_fork_epoch) {
			close(l->conn_fd); /* the parent's: ours is a copy */
			l->conn_fd = -1;
		}
		/* A kept connection the daemon closed (idle, restart) is retried
		 * once on a fresh one; a fresh one that fails is not. */
		for (int fresh = 0; r == 0 && !fresh;) {
			if (l->conn_fd < 0) {
				fresh = 1;
				l->conn_fd = daemon_connect(l);
				l->conn_epoch = rc_fork_epoch;
				if (l->conn_fd < 0)
					break;
			}
			r = daemon_roundtrip(l->conn_fd, &m, total, rep);
			if (r != 1) {
				close(l->conn_fd);
				l->conn_fd = -1;
			}
			if (r < 0)
				break;
		}
		pthread_mutex_unlock(&l->conn_lock);
	} else {
		int fd = daemon_connect(l);
		if (fd >= 0) {
			r = daemon_roundtrip(fd, &m, total, rep);
			close(fd);
		}
	}
	if (r < 0) {
		rc_notice(l, RC_NOTE_DAEMON, "the daemon at %s did not answer in %d ms; checking in-process",
		          l->socket, RC_DAEMON_TIMEOUT_MS);
		daemon_off(l, "was too slow");
		return 0;
	}
	if (r == 0)
		return 0;
	int32_t status = 0, outcome = 0, allowed = 0;
	rc_proto_reply(rep, sizeof rep, &status, &outcome, &allowed); /* magic checked */
	if (status == RC_PROTO_STATUS_REFUSED) { /* it does not serve this configuration */
		daemon_off(l, "does not serve this configuration");
		return 0;
	}
	if (outcome < REVOCHECK_OUTCOME_REVOKED || outcome > REVOCHECK_OUTCOME_LAST ||
	    (allowed != 0 && allowed != 1)) {
		daemon_off(l, "sent a reply this adapter does not understand");
		return 0;
	}
	res->outcome = outcome;
	res->allowed = allowed;
	return 1;
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
	if (!library_ready(l) && daemon_ask(l, RC_PROTO_KIND_DER, cert, cert_len, issuer, issuer_len, res)) {
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
	if (!library_ready(l) && daemon_ask(l, RC_PROTO_KIND_ISSUER_SERIAL, issuer_name, name_len, serial, serial_len, res))
		return 1;
	if (!ready(l))
		return unavailable(l, RC_PROTO_KIND_ISSUER_SERIAL, issuer_name, name_len, serial, serial_len, res);
	l->check_issuer_serial(l->handle, issuer_name, name_len, serial, serial_len, res);
	return 1;
}

/* Asks the daemon for the state of this configuration (on a connection
 * of its own: the reply is longer than a check's). 1: it answered, *ready
 * and msg set; 0: it does not serve us (then it is not asked again) or
 * cannot be reached. */
static int daemon_state_line(rc_loader *l, int *ready, char *msg, size_t size)
{
	if (daemon_state(l) != 1)
		return 0;
	int fd = daemon_connect(l);
	if (fd < 0)
		return 0;
	uint8_t hdr[RC_PROTO_HEADER_SIZE];
	rc_proto_header(hdr, RC_PROTO_KIND_STATE, strlen(l->overrides), 0, 0, l->context_len);
	struct iovec iov[3] = {{hdr, sizeof hdr}, {l->overrides, strlen(l->overrides)}, {l->context, l->context_len}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 3};
	size_t total = sizeof hdr + iov[1].iov_len + iov[2].iov_len;
	uint8_t rep[RC_PROTO_REPLY_SIZE + RC_PROTO_MAX_STATE_TEXT];
	ssize_t n = -1;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)total && poll(&p, 1, RC_DAEMON_TIMEOUT_MS) > 0)
		n = recv(fd, rep, sizeof rep, 0);
	close(fd);
	int32_t status, outcome, allowed;
	if (n < RC_PROTO_REPLY_SIZE ||
	    !rc_proto_reply(rep, RC_PROTO_REPLY_SIZE, &status, &outcome, &allowed))
		return 0;
	if (status == RC_PROTO_STATUS_REFUSED) {
		daemon_off(l, "does not serve this configuration");
		return 0;
	}
	if (status != RC_PROTO_STATUS_OK)
		return 0;
	snprintf(msg, size, "%.*s; asking the check daemon at %s", (int)(n - RC_PROTO_REPLY_SIZE),
	         (const char *)rep + RC_PROTO_REPLY_SIZE, l->socket);
	*ready = allowed == 1;
	return 1;
}

int rc_state(rc_loader *l, char *msg, size_t size)
{
	int daemon_ready = 0;
	if (!library_ready(l) && daemon_state_line(l, &daemon_ready, msg, size))
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

/* Asks the daemon for cert's issuer candidates on a connection of its own
 * (the reply is longer than a check's; completion is rare), receiving the
 * DER straight into the caller's buffer. 1: it answered (*count, *len set);
 * 0: it cannot (then the library is asked). */
static int daemon_issuers(rc_loader *l, const unsigned char *cert, size_t cert_len,
                          unsigned char *buf, size_t size, size_t *len, int *count)
{
	if (daemon_state(l) != 1 || cert_len > RC_PROTO_MAX_PART)
		return 0;
	int fd = daemon_connect(l);
	if (fd < 0)
		return 0;
	uint8_t hdr[RC_PROTO_HEADER_SIZE];
	size_t olen = strlen(l->overrides);
	rc_proto_header(hdr, RC_PROTO_KIND_ISSUERS, olen, cert_len, 0, l->context_len);
	struct iovec iov[4] = {{hdr, sizeof hdr},
	                       {l->overrides, olen},
	                       {(void *)cert, cert_len},
	                       {l->context, l->context_len}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 4};
	size_t total = sizeof hdr + olen + cert_len + l->context_len;
	uint8_t rep[RC_PROTO_REPLY_SIZE];
	struct iovec riov[2] = {{rep, sizeof rep}, {buf, size}};
	struct msghdr rm = {.msg_iov = riov, .msg_iovlen = 2};
	ssize_t n = -1;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r = 0;
	if (sendmsg(fd, &m, MSG_NOSIGNAL) == (ssize_t)total) {
		do
			r = poll(&p, 1, RC_DAEMON_TIMEOUT_MS);
		while (r < 0 && errno == EINTR);
		if (r > 0)
			n = recvmsg(fd, &rm, 0);
	}
	close(fd);
	if (r == 0) {
		rc_notice(l, RC_NOTE_DAEMON, "the daemon at %s did not answer in %d ms; checking in-process",
		          l->socket, RC_DAEMON_TIMEOUT_MS);
		daemon_off(l, "was too slow");
		return 0;
	}
	int32_t status, got, allowed;
	if (n < RC_PROTO_REPLY_SIZE || (rm.msg_flags & MSG_TRUNC) != 0 ||
	    !rc_proto_reply(rep, RC_PROTO_REPLY_SIZE, &status, &got, &allowed))
		return 0; /* a reply larger than buf, too: the library may fit it no better */
	if (status == RC_PROTO_STATUS_REFUSED) {
		daemon_off(l, "does not serve this configuration");
		return 0;
	}
	got = rc_proto_get_le32(rep + RC_PROTO_OFF_COUNT);
	/* Any other status (a certificate it could not parse, a damaged set,
	 * a daemon older than this request kind) or an inconsistent reply:
	 * the library answers instead. */
	if (status != RC_PROTO_STATUS_OK || got < 0 || (got == 0) != (n == RC_PROTO_REPLY_SIZE))
		return 0;
	*count = got;
	*len = (size_t)n - RC_PROTO_REPLY_SIZE;
	return 1;
}

int rc_find_issuers(rc_loader *l, const unsigned char *cert, size_t cert_len, unsigned char *buf,
                    size_t size, size_t *len)
{
	*len = 0;
	if (cert == NULL || cert_len == 0 || buf == NULL)
		return 0;
	int count = 0;
	if (!library_ready(l) && daemon_issuers(l, cert, cert_len, buf, size, len, &count)) {
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
