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
 *  - Its environment is built here, not inherited: the effective config
 *    file and cache directory (secure_getenv), HOME and XDG_CONFIG_HOME,
 *    so it reads the configuration this adapter would have read.
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

/* Adds "NAME=value" to env when value is set. */
static void env_add(char **env, int *n, char *buf, size_t size, const char *name, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	int w = snprintf(buf, size, "%s=%s", name, value);
	if (w > 0 && (size_t)w < size)
		env[(*n)++] = buf;
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
	if (alen > 64 * 1024 || blen > 64 * 1024) {
		*why = "certificate too large";
		return 0;
	}
	size_t olen = strlen(l->overrides), total = 20 + olen + alen + blen;
	uint8_t *req = malloc(total);
	if (req == NULL) {
		*why = "out of memory";
		return 0;
	}
	memcpy(req, "RCQ1", 4);
	req[4] = kind, req[5] = req[6] = req[7] = 0;
	uint32_t lens[3] = {(uint32_t)olen, (uint32_t)alen, (uint32_t)blen};
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 4; k++)
			req[8 + 4 * i + k] = (uint8_t)(lens[i] >> (8 * k));
	memcpy(req + 20, l->overrides, olen);
	if (alen > 0)
		memcpy(req + 20 + olen, a, alen);
	if (blen > 0)
		memcpy(req + 20 + olen + alen, b, blen);

	/* The environment the helper reads its configuration from: what this
	 * process would have read (secure_getenv: nothing of the caller's in a
	 * setuid program). */
	char ebuf[4][RC_PATH_MAX + 32];
	char *envp[5];
	int n = 0;
	env_add(envp, &n, ebuf[0], sizeof ebuf[0], "REVOCHECK_CONFIG",
	        l->config[0] ? l->config : secure_getenv("REVOCHECK_CONFIG"));
	env_add(envp, &n, ebuf[1], sizeof ebuf[1], "REVOCHECK_CACHE_DIR", secure_getenv("REVOCHECK_CACHE_DIR"));
	env_add(envp, &n, ebuf[2], sizeof ebuf[2], "HOME", secure_getenv("HOME"));
	env_add(envp, &n, ebuf[3], sizeof ebuf[3], "XDG_CONFIG_HOME", secure_getenv("XDG_CONFIG_HOME"));
	envp[n] = NULL;

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
	uint8_t rep[17];
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
		if (got > 16) {
			*why = "it sent more than a reply";
			goto done;
		}
	}
	if (got != 16 || memcmp(rep, "RCA1", 4) != 0) {
		*why = "it sent no reply (see `revocheck check --request` with REVOCHECK_DEBUG=1)";
		goto done;
	}
	int32_t status = 0, outcome = 0, allowed = 0;
	for (int k = 0; k < 4; k++) {
		status |= (int32_t)((uint32_t)rep[4 + k] << (8 * k));
		outcome |= (int32_t)((uint32_t)rep[8 + k] << (8 * k));
		allowed |= (int32_t)((uint32_t)rep[12 + k] << (8 * k));
	}
	if (status == 1) {
		*why = "it could not open this configuration";
		goto done;
	}
	if (outcome < REVOCHECK_OUTCOME_REVOKED || outcome > REVOCHECK_OUTCOME_ERROR ||
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
