/*
 * checkd_load.c — load and latency of `revocheck daemon` as the adapters
 * see it: the real protocol (adapters-common/rc_protocol.h) over the real
 * AF_UNIX SOCK_SEQPACKET socket, one certificate check per request.
 *
 * usage:
 *   checkd_load rtt SOCKET LEAF.der ISSUER.der N
 *       one kept connection, N checks one after the other (what one
 *       adapter process does): round trip p50/p99/mean.
 *   checkd_load load SOCKET LEAF.der ISSUER.der CONNS THREADS SECONDS [PID]
 *       CONNS connections (concurrent clients), each with one request
 *       outstanding at all times, driven by THREADS threads (epoll);
 *       throughput and latency percentiles overall and per second (a flat
 *       p99 is one that does not grow from second to second). With the
 *       daemon's PID, also the CPU time it and this client spent per check
 *       (user + system): on a shared machine the steadier figure, and the
 *       capacity of two idle cores follows from it.
 *   checkd_load syscall
 *       what one system call (getppid) costs on this machine: a round
 *       trip is at least four of them.
 *   checkd_load echo SOCKET
 *       a C server answering every message with a fixed 16-byte reply,
 *       one blocking thread per connection: the floor a round trip over
 *       this socket type costs on this machine, whatever the daemon does.
 *
 * Every reply is checked: magic, status 0 and an outcome of not_revoked or
 * revoked (the chains bench/ uses); anything else stops the run (exit 1).
 * Output lines are "key=value" pairs for the scripts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../../adapters-common/rc_protocol.h"

static uint8_t *leaf, *issuer;
static size_t leaf_len, issuer_len;
static const char *sock_path;

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		die(path);
	uint8_t *buf = malloc(RC_PROTO_MAX_PART);
	*len = fread(buf, 1, RC_PROTO_MAX_PART, f);
	fclose(f);
	if (*len == 0 || *len >= RC_PROTO_MAX_PART) {
		fprintf(stderr, "%s: empty or too large\n", path);
		exit(1);
	}
	return buf;
}

static int dial(void)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		die("connect");
	return fd;
}

/* The request: a check of the leaf against its issuer, no overrides, an
 * empty context (a client configured by the system file only). */
static uint8_t hdr[RC_PROTO_HEADER_SIZE];

static void send_req(int fd)
{
	struct iovec iov[3] = {{hdr, sizeof hdr}, {leaf, leaf_len}, {issuer, issuer_len}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 3};
	if (sendmsg(fd, &m, MSG_NOSIGNAL) != (ssize_t)(sizeof hdr + leaf_len + issuer_len))
		die("sendmsg");
}

static void recv_rep(int fd)
{
	uint8_t rep[RC_PROTO_REPLY_SIZE + 1];
	ssize_t n;
	do
		n = recv(fd, rep, sizeof rep, 0);
	while (n < 0 && errno == EINTR);
	int32_t status = -99, outcome = -99, allowed = 0;
	if (n < 0)
		die("recv");
	if (!rc_proto_reply(rep, (size_t)n, &status, &outcome, &allowed) || status != 0 ||
	    (outcome != 1 && outcome != 2)) {
		fprintf(stderr, "checkd_load: unexpected reply (%zd bytes, status %d, outcome %d)\n", n,
		        status, outcome);
		exit(1);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Percentile q (0..1) of n sorted values, in µs. */
static double pct(const uint32_t *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i] / 1e3;
}

static int rtt(long n)
{
	int fd = dial();
	for (int i = 0; i < 200; i++) /* warm up: the daemon opens its cache on the first */
		send_req(fd), recv_rep(fd);
	uint32_t *lat = malloc(sizeof *lat * (size_t)n);
	double sum = 0;
	for (long i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		send_req(fd);
		recv_rep(fd);
		lat[i] = (uint32_t)(now_ns() - t0);
		sum += lat[i];
	}
	qsort(lat, (size_t)n, sizeof *lat, cmp_u32);
	printf("rtt n=%ld p50_us=%.2f p90_us=%.2f p99_us=%.2f mean_us=%.2f min_us=%.2f\n", n,
	       pct(lat, (size_t)n, 0.5), pct(lat, (size_t)n, 0.9), pct(lat, (size_t)n, 0.99),
	       sum / (double)n / 1e3, lat[0] / 1e3);
	close(fd);
	return 0;
}

/* ---- load: CONNS connections over THREADS epoll loops ---------------- */

#define MAX_SECONDS 120
struct lat_buf {
	uint32_t *v;
	size_t n, cap;
};

struct worker {
	pthread_t t;
	int nconns;
	uint64_t start, stop;
	struct lat_buf sec[MAX_SECONDS]; /* latencies by the second they ended in */
};

static void lat_add(struct lat_buf *b, uint32_t v)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 4096;
		b->v = realloc(b->v, sizeof *b->v * b->cap);
		if (b->v == NULL)
			die("realloc");
	}
	b->v[b->n++] = v;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int *fds = calloc((size_t)w->nconns, sizeof *fds);
	uint64_t *sent = calloc((size_t)w->nconns, sizeof *sent);
	for (int i = 0; i < w->nconns; i++) {
		fds[i] = dial();
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) != 0)
			die("epoll_ctl");
	}
	for (int i = 0; i < w->nconns; i++)
		sent[i] = now_ns(), send_req(fds[i]);
	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(ep, evs, 64, 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		uint64_t t = now_ns();
		for (int k = 0; k < n; k++) {
			int i = (int)evs[k].data.u32;
			recv_rep(fds[i]);
			if (t >= w->start && t < w->stop) {
				size_t s = (size_t)((t - w->start) / 1000000000u);
				lat_add(&w->sec[s], (uint32_t)(t - sent[i]));
			}
			if (t < w->stop)
				sent[i] = now_ns(), send_req(fds[i]);
		}
		if (t >= w->stop + 1000000000u || (t >= w->stop && n == 0))
			break;
	}
	for (int i = 0; i < w->nconns; i++)
		close(fds[i]);
	close(ep);
	return NULL;
}

/* CPU time (user + system, all threads) of process pid in ms, from
 * /proc; -1 when unknown. */
static double proc_cpu_ms(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the name may hold spaces */
	unsigned long ut, st;
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static void sleep_until(uint64_t t)
{
	uint64_t n = now_ns();
	if (t > n) {
		struct timespec d = {.tv_sec = (time_t)((t - n) / 1000000000u), .tv_nsec = (long)((t - n) % 1000000000u)};
		nanosleep(&d, NULL);
	}
}

static int load(int conns, int threads, int seconds, long pid)
{
	if (conns < 1 || threads < 1 || threads > conns || seconds < 1 || seconds > MAX_SECONDS) {
		fprintf(stderr, "checkd_load: bad CONNS/THREADS/SECONDS\n");
		return 2;
	}
	/* One warm-up check: the daemon opens its cache on the first. */
	int fd = dial();
	send_req(fd), recv_rep(fd);
	close(fd);
	struct worker *ws = calloc((size_t)threads, sizeof *ws);
	uint64_t start = now_ns() + 500000000u; /* connect everything, then measure */
	for (int i = 0; i < threads; i++) {
		ws[i].nconns = conns / threads + (i < conns % threads);
		ws[i].start = start;
		ws[i].stop = start + (uint64_t)seconds * 1000000000u;
		if (pthread_create(&ws[i].t, NULL, work, &ws[i]) != 0)
			die("pthread_create");
	}
	sleep_until(start);
	double d0 = pid > 0 ? proc_cpu_ms(pid) : -1, c0 = proc_cpu_ms(getpid());
	sleep_until(start + (uint64_t)seconds * 1000000000u);
	double d1 = pid > 0 ? proc_cpu_ms(pid) : -1, c1 = proc_cpu_ms(getpid());
	for (int i = 0; i < threads; i++)
		pthread_join(ws[i].t, NULL);
	struct lat_buf all = {0};
	printf("load conns=%d threads=%d seconds=%d\n", conns, threads, seconds);
	double worst_p99 = 0, best_p99 = 1e18;
	for (int s = 0; s < seconds; s++) {
		struct lat_buf sec = {0};
		for (int i = 0; i < threads; i++)
			for (size_t k = 0; k < ws[i].sec[s].n; k++)
				lat_add(&sec, ws[i].sec[s].v[k]), lat_add(&all, ws[i].sec[s].v[k]);
		qsort(sec.v, sec.n, sizeof *sec.v, cmp_u32);
		double p99 = pct(sec.v, sec.n, 0.99);
		worst_p99 = p99 > worst_p99 ? p99 : worst_p99;
		best_p99 = p99 < best_p99 ? p99 : best_p99;
		printf("second=%d checks=%zu p50_us=%.1f p99_us=%.1f\n", s + 1, sec.n, pct(sec.v, sec.n, 0.5),
		       p99);
		free(sec.v);
	}
	qsort(all.v, all.n, sizeof *all.v, cmp_u32);
	printf("total checks=%zu per_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
	       "p99_per_second_min_us=%.1f p99_per_second_max_us=%.1f\n",
	       all.n, (double)all.n / seconds, pct(all.v, all.n, 0.5), pct(all.v, all.n, 0.99),
	       pct(all.v, all.n, 0.999), all.n ? all.v[all.n - 1] / 1e3 : 0, best_p99, worst_p99);
	if (all.n > 0 && d0 >= 0 && d1 >= 0)
		printf("cpu daemon_us_per_check=%.2f client_us_per_check=%.2f\n", (d1 - d0) * 1e3 / (double)all.n,
		       (c1 - c0) * 1e3 / (double)all.n);
	return 0;
}

/* ---- echo: the floor --------------------------------------------------- */

static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static __thread uint8_t buf[2 * RC_PROTO_MAX_PART + RC_PROTO_HEADER_SIZE];
	uint8_t rep[RC_PROTO_REPLY_SIZE];
	memcpy(rep, RC_PROTO_REPLY_MAGIC, 4);
	rc_proto_put_le32(rep + RC_PROTO_OFF_STATUS, 0);
	rc_proto_put_le32(rep + RC_PROTO_OFF_OUTCOME, 2);
	rc_proto_put_le32(rep + RC_PROTO_OFF_ALLOWED, 1);
	while (recv(fd, buf, sizeof buf, 0) > 0)
		if (send(fd, rep, sizeof rep, MSG_NOSIGNAL) != (ssize_t)sizeof rep)
			break;
	close(fd);
	return NULL;
}

static _Noreturn void echo(void)
{
	int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	unlink(sock_path);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 128) != 0)
		die("listen");
	for (;;) {
		int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_t t;
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &a, echo_conn, (void *)(intptr_t)fd) != 0)
			close(fd);
	}
}

static int syscall_cost(void)
{
	double best = 1e18;
	for (int r = 0; r < 5; r++) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < 100000; i++)
			syscall(SYS_getppid);
		double ns = (double)(now_ns() - t0) / 100000;
		best = ns < best ? ns : best;
	}
	printf("syscall ns=%.0f\n", best);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "syscall") == 0)
		return syscall_cost();
	if (argc == 3 && strcmp(argv[1], "echo") == 0) {
		sock_path = argv[2];
		echo();
	}
	if (argc < 6) {
		fprintf(stderr, "usage: checkd_load rtt SOCKET LEAF ISSUER N\n"
		                "       checkd_load load SOCKET LEAF ISSUER CONNS THREADS SECONDS\n"
		                "       checkd_load echo SOCKET\n"
		                "       checkd_load syscall\n");
		return 2;
	}
	sock_path = argv[2];
	leaf = slurp(argv[3], &leaf_len);
	issuer = slurp(argv[4], &issuer_len);
	rc_proto_header(hdr, RC_PROTO_KIND_DER, 0, leaf_len, issuer_len, 0);
	if (strcmp(argv[1], "rtt") == 0)
		return rtt(atol(argv[5]));
	if (strcmp(argv[1], "load") == 0 && (argc == 8 || argc == 9))
		return load(atoi(argv[5]), atoi(argv[6]), atoi(argv[7]), argc == 9 ? atol(argv[8]) : 0);
	fprintf(stderr, "checkd_load: unknown mode or wrong arguments\n");
	return 2;
}
