/*
 * load_cost.c — what loading a Go c-shared library costs a host process:
 * dlopen, the first call (which waits for the Go runtime to start), and
 * revocheck_open, each as wall time and page faults.
 *
 * usage: load_cost LIB OVERRIDES
 * prints: load dlopen_ns=... dlopen_faults=... first_ns=... first_faults=...
 *         open_ns=... open_faults=... threads=...
 * LIB is librevocheck.so.0 or the empty Go library bench/runtime-floor.sh
 * builds (same exported names, no code behind them).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef int (*open_fn)(const char *, const char *, int64_t *);
typedef const char *(*version_fn)(void);

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static long faults(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_minflt + r.ru_majflt;
}

static long threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long n = -1;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "Threads:", 8) == 0)
			sscanf(line + 8, "%ld", &n);
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: load_cost LIB OVERRIDES\n");
		return 2;
	}
	long f0 = faults();
	double t0 = now_ns();
	void *dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "load_cost: %s\n", dlerror());
		return 2;
	}
	long f1 = faults();
	double t1 = now_ns();
	version_fn version = (version_fn)dlsym(dl, "revocheck_version");
	open_fn rc_open = (open_fn)dlsym(dl, "revocheck_open");
	if (version == NULL || rc_open == NULL) {
		fprintf(stderr, "load_cost: missing symbols in %s\n", argv[1]);
		return 2;
	}
	(void)version();
	long f2 = faults();
	double t2 = now_ns();
	int64_t h = 0;
	if (rc_open(NULL, argv[2], &h) != 0) {
		fprintf(stderr, "load_cost: revocheck_open failed\n");
		return 2;
	}
	long f3 = faults();
	double t3 = now_ns();
	printf("load dlopen_ns=%.0f dlopen_faults=%ld first_ns=%.0f first_faults=%ld open_ns=%.0f open_faults=%ld threads=%ld\n",
	       t1 - t0, f1 - f0, t2 - t1, f2 - f1, t3 - t2, f3 - f2, threads());
	return 0;
}
