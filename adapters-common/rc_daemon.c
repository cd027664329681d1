/*
 * rc_daemon.c — asking `revocheck daemon` (see rc_loader.h for when, and
 * rc_protocol.h for the wire format): the request's context, whether the
 * socket may be trusted, the kept connection and its round trip, and the
 * two requests that take a connection of their own (state, issuers).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* secure_getenv */
#endif
#include "rc_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

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
	snprintf(d, sizeof d, "%s", l->socket);
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
int rc_daemon_ask(rc_loader *l, uint8_t kind, const uint8_t *a, size_t alen, const uint8_t *b,
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

/* One request on a connection of its own (the replies of these kinds are
 * longer than a check's, and they are rare): the request carries this
 * adapter's overrides, a (may be empty) and the context; the reply is
 * received into reply[0..nreply). Returns the reply's length, or -1 when
 * the daemon cannot be asked or did not answer (then *timed_out says
 * whether it was too slow). *flags receives recvmsg's msg_flags. */
static ssize_t oneshot(rc_loader *l, uint8_t kind, const void *a, size_t alen,
                       struct iovec *reply, size_t nreply, int *flags, int *timed_out)
{
	*timed_out = 0;
	*flags = 0;
	if (daemon_state(l) != 1 || alen > RC_PROTO_MAX_PART)
		return -1;
	int fd = daemon_connect(l);
	if (fd < 0)
		return -1;
	uint8_t hdr[RC_PROTO_HEADER_SIZE];
	size_t olen = strlen(l->overrides);
	rc_proto_header(hdr, kind, olen, alen, 0, l->context_len);
	struct iovec iov[4] = {{hdr, sizeof hdr}, {l->overrides, olen}, {(void *)a, alen}, {l->context, l->context_len}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 4};
	size_t total = sizeof hdr + olen + alen + l->context_len;
	struct msghdr rm = {.msg_iov = reply, .msg_iovlen = nreply};
	ssize_t n = -1;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r = 0;
	/* Never blocks on a daemon whose queue is full: it is then not asked. */
	if (sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)total) {
		do
			r = poll(&p, 1, RC_DAEMON_TIMEOUT_MS);
		while (r < 0 && errno == EINTR);
		if (r > 0)
			n = recvmsg(fd, &rm, 0);
		*timed_out = r == 0;
	}
	close(fd);
	*flags = rm.msg_flags;
	return n;
}

/* The status of a oneshot reply. 1: OK; 0: any other answer (a refusal
 * also stops asking this daemon). */
static int oneshot_ok(rc_loader *l, const uint8_t rep[RC_PROTO_REPLY_SIZE], ssize_t n, int32_t *outcome,
                      int32_t *allowed)
{
	int32_t status;
	if (n < RC_PROTO_REPLY_SIZE || !rc_proto_reply(rep, RC_PROTO_REPLY_SIZE, &status, outcome, allowed))
		return 0;
	if (status == RC_PROTO_STATUS_REFUSED)
		daemon_off(l, "does not serve this configuration");
	return status == RC_PROTO_STATUS_OK;
}

/* Asks the daemon for the state line of this configuration. 1: it
 * answered, *ready and msg set; 0: it does not serve us (then it is not
 * asked again) or cannot be reached. */
int rc_daemon_state_line(rc_loader *l, int *ready, char *msg, size_t size)
{
	uint8_t rep[RC_PROTO_REPLY_SIZE + RC_PROTO_MAX_STATE_TEXT];
	struct iovec riov = {rep, sizeof rep};
	int flags, timed_out;
	ssize_t n = oneshot(l, RC_PROTO_KIND_STATE, NULL, 0, &riov, 1, &flags, &timed_out);
	int32_t outcome, allowed;
	if (!oneshot_ok(l, rep, n, &outcome, &allowed))
		return 0;
	snprintf(msg, size, "%.*s; asking the check daemon at %s", (int)(n - RC_PROTO_REPLY_SIZE),
	         (const char *)rep + RC_PROTO_REPLY_SIZE, l->socket);
	*ready = allowed == 1;
	return 1;
}

/* Asks the daemon for cert's issuer candidates, receiving the DER straight
 * into the caller's buffer. 1: it answered (*count, *len set); 0: it
 * cannot (then the library is asked). */
int rc_daemon_issuers(rc_loader *l, const unsigned char *cert, size_t cert_len,
                      unsigned char *buf, size_t size, size_t *len, int *count)
{
	uint8_t rep[RC_PROTO_REPLY_SIZE];
	struct iovec riov[2] = {{rep, sizeof rep}, {buf, size}};
	int flags, timed_out;
	ssize_t n = oneshot(l, RC_PROTO_KIND_ISSUERS, cert, cert_len, riov, 2, &flags, &timed_out);
	if (timed_out) {
		rc_notice(l, RC_NOTE_DAEMON, "the daemon at %s did not answer in %d ms; checking in-process",
		          l->socket, RC_DAEMON_TIMEOUT_MS);
		daemon_off(l, "was too slow");
		return 0;
	}
	int32_t got, allowed;
	/* A reply larger than buf (the library may fit it no better), any
	 * status but OK (a certificate it could not parse, a damaged set, a
	 * daemon older than this request kind) or an inconsistent reply: the
	 * library answers instead. */
	if ((flags & MSG_TRUNC) != 0 || !oneshot_ok(l, rep, n, &got, &allowed))
		return 0;
	got = rc_proto_get_le32(rep + RC_PROTO_OFF_COUNT);
	if (got < 0 || (got == 0) != (n == RC_PROTO_REPLY_SIZE))
		return 0;
	*count = got;
	*len = (size_t)n - RC_PROTO_REPLY_SIZE;
	return 1;
}
