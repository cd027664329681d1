/*
 * rc_helper.c — checks in a forked child whose parent started Go.
 *
 * A Go runtime does not survive fork: a child of a process that has called
 * into librevocheck.so must never call into it again (rc_loader.c), and
 * when no check daemon answers it used to fall back to the "unavailable"
 * policy — allow, by default — so every pre-fork worker (gunicorn, uwsgi,
 * Apache prefork, python multiprocessing) accepted revoked certificates.
 * Instead, the child now runs a fresh helper process for each check:
 *
 *   revocheck check --request      (cmd/revocheck/checkrequest.go)
 *
 * started with posix_spawn (no Go, no allocation in the child before
 * exec), fed one request of the check daemon's protocol on stdin and read
 * back one 16-byte reply. Rules:
 *  - The binary is found once: $REVOCHECK_HELPER (secure_getenv: tests
 *    only, never in a setuid program), then ../bin/revocheck next to the
 *    adapter (a build tree, or a prefix such as /usr/local), then
 *    REVOCHECK_BINDIR/revocheck compiled in. It must be a regular
 *    executable file owned by root or by us and writable by nobody else.
 *  - Nothing is inherited: its environment is empty. The request carries
 *    this adapter's settings and context (rc_protocol.h: the config-file
 *    setting and the environment read with secure_getenv), and the helper
 *    configures itself from those, as the library would have here.
 *  - Bounded: RC_HELPER_TIMEOUT_MS for the whole exchange, then SIGKILL.
 *  - No zombie: waitpid on its pid only (never -1, so the host's own
 *    children are not reaped); ECHILD (the host ignores SIGCHLD, or its
 *    handler reaped it first) is fine.
 *  - No descriptor leaks: the socket is close-on-exec and every other
 *    descriptor of the host is closed in the helper (closefrom, glibc 2.34).
 *  - The host's SIGPIPE disposition is not needed: send(MSG_NOSIGNAL).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rc_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef REVOCHECK_BINDIR
#define REVOCHECK_BINDIR "/usr/local/bin"
#endif

/* Returns 1 when path is a binary we may run with our privileges. */
static int trusted_binary(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR) != 0 &&
	       (st.st_uid == 0 || st.st_uid == geteuid()) && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* Finds the helper binary; "" when there is none (logged once by the caller). */
static void find_helper(rc_loader *l)
{
	const char *env = secure_getenv("REVOCHECK_HELPER");
	if (env != NULL && *env != '\0') {
		snprintf(l->helper, sizeof l->helper, "%s", trusted_binary(env) ? env : "");
		return;
	}
	Dl_info info;
	if (dladdr((void *)rc_helper_check, &info) != 0 && info.dli_fname != NULL) {
		char self[RC_PATH_MAX], path[RC_PATH_MAX + 32];
		snprintf(self, sizeof self, "%s", info.dli_fname);
		snprintf(path, sizeof path, "%s/../bin/revocheck", dirname(self));
		if (strlen(path) < sizeof l->helper && trusted_binary(path)) {
			memcpy(l->helper, path, strlen(path) + 1);
			return;
		}
	}
	snprintf(l->helper, sizeof l->helper, "%s",
	         trusted_binary(REVOCHECK_BINDIR "/revocheck") ? REVOCHECK_BINDIR "/revocheck" : "");
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to become ready for events until the deadline: 1 ready,
 * 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* Reaps the helper without blocking past the deadline; kills it then. */
static void reap(pid_t pid, long long deadline)
{
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return; /* reaped, or reaped for us (SIGCHLD ignored / host handler) */
		if (r < 0 && errno != EINTR)
			return;
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			return;
		}
		struct timespec ts = {0, 200 * 1000}; /* 0.2 ms: the helper is exiting */
		nanosleep(&ts, NULL);
	}
}

int rc_helper_check(rc_loader *l, uint8_t kind, const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen, revocheck_result *res, const char **why)
{
	pthread_mutex_lock(&l->lock);
	if (!l->helper_found) {
		find_helper(l);
		l->helper_found = 1;
	}
	pthread_mutex_unlock(&l->lock);
	if (l->helper[0] == '\0') {
		const char *env = secure_getenv("REVOCHECK_HELPER");
		*why = env != NULL && *env != '\0'
		           ? "$REVOCHECK_HELPER is not an executable owned by root or this user"
		           : "no revocheck binary to run (looked next to the adapter and in " REVOCHECK_BINDIR ")";
		return 0;
	}
	if (alen > RC_PROTO_MAX_PART || blen > RC_PROTO_MAX_PART) {
		*why = "certificate too large";
		return 0;
	}
	const char *ctx;
	size_t clen;
	rc_loader_context(l, &ctx, &clen);
	size_t olen = strlen(l->overrides), h = RC_PROTO_HEADER_SIZE;
	size_t total = h + olen + alen + blen + clen;
	uint8_t *req = malloc(total);
	if (req == NULL) {
		*why = "out of memory";
		return 0;
	}
	rc_proto_header(req, kind, olen, alen, blen, clen);
	memcpy(req + h, l->overrides, olen);
	if (alen > 0)
		memcpy(req + h + olen, a, alen);
	if (blen > 0)
		memcpy(req + h + olen + alen, b, blen);
	memcpy(req + h + olen + alen + blen, ctx, clen);
	char *envp[] = {NULL}; /* its configuration comes in the request */

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		free(req);
		*why = "socketpair failed";
		return 0;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	if (!l->debug)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	/* The host's signal mask and ignored signals are not the helper's. */
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	char *argv[] = {l->helper, "check", "--request", NULL};
	pid_t pid;
	long long deadline = now_ms() + RC_HELPER_TIMEOUT_MS;
	int err = posix_spawn(&pid, l->helper, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (err != 0) {
		close(sv[0]);
		free(req);
		*why = "posix_spawn failed";
		return 0;
	}

	int ok = 0;
	*why = "no answer in time";
	size_t off = 0;
	while (off < total) {
		if (wait_fd(sv[0], POLLOUT, deadline) != 1)
			goto done;
		ssize_t w = send(sv[0], req + off, total - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w <= 0) {
			*why = "the helper exited before reading its request";
			goto done;
		}
		off += (size_t)w;
	}
	shutdown(sv[0], SHUT_WR); /* end of request */
	uint8_t rep[RC_PROTO_REPLY_SIZE + 1];
	size_t got = 0;
	for (;;) { /* the reply, then EOF (the helper exited) */
		if (wait_fd(sv[0], POLLIN, deadline) != 1)
			goto done;
		ssize_t r = recv(sv[0], rep + got, sizeof rep - got, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			*why = "reading its reply failed";
			goto done;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > RC_PROTO_REPLY_SIZE) {
			*why = "it sent more than a reply";
			goto done;
		}
	}
	int32_t status = 0, outcome = 0, allowed = 0;
	if (!rc_proto_reply(rep, got, &status, &outcome, &allowed)) {
		*why = "it sent no reply (see `revocheck check --request` with REVOCHECK_DEBUG=1)";
		goto done;
	}
	if (status == RC_PROTO_STATUS_REFUSED) {
		*why = "it could not open this configuration";
		goto done;
	}
	if (outcome < REVOCHECK_OUTCOME_REVOKED || outcome > REVOCHECK_OUTCOME_LAST ||
	    (allowed != 0 && allowed != 1)) {
		*why = "it sent a reply this adapter does not understand";
		goto done;
	}
	res->outcome = outcome;
	res->allowed = allowed;
	ok = 1;
done:
	close(sv[0]);
	free(req);
	reap(pid, ok ? now_ms() + RC_HELPER_TIMEOUT_MS : deadline);
	return ok;
}
