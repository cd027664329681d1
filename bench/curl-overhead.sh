#!/usr/bin/env bash
# curl-overhead.sh [RUNS] — wall time of a whole `curl` process fetching from
# a local HTTPS server, with the revocheck OpenSSL provider enabled
# (OPENSSL_CONF) versus without it, measured alternately in one run.
# Prints the medians and their ratio (goal: <= 1.05).
#
# A second measurement amortises the one-time cost (loading librevocheck.so
# and starting its Go runtime, ~2-4 ms per process) over K fresh TLS
# handshakes in one curl process (HTTP/1.1 + Connection: close +
# --no-sessionid, so every fetch verifies a chain): the per-handshake cost.
#
# A third variant asks the check daemon (`revocheck daemon`, started here on
# a private socket) instead of loading librevocheck.so into curl: the
# provider's own cost plus one socket round trip per certificate.
#
# Needs `make all` (build/lib/revocheck-openssl.so, build/lib/librevocheck.so.0).
# Everything stays on 127.0.0.1; the PKI and cache are throwaway.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init curl-overhead
RUNS=${1:-200}
K=${2:-50}

for f in "$B/lib/revocheck-openssl.so" "$B/lib/librevocheck.so.0"; do
	[[ -f $f ]] || { echo "curl-overhead: $f missing; run make all" >&2; exit 1; }
done
command -v curl >/dev/null && command -v python3 >/dev/null ||
	{ echo "curl-overhead: needs curl and python3" >&2; exit 1; }

bench_sites

# The shipped snippet, pointed at this build and the throwaway cache.
bench_cnf "$W/openssl.cnf" "$B" "cache-dir=$CACHE_DIR"

# The daemon variant: the cache is the daemon's, and the library path is
# made unloadable, so an answer can only have come from the daemon.
bench_daemon "$CACHE_DIR"
bench_cnf "$W/openssl-daemon.cnf" "$B" "library=$W/no-library-here.so" "unavailable=deny"

# Sanity: the provider is really active (refuses the revoked site), both ways.
if REVOCHECK_SOCKET=none OPENSSL_CONF=$W/openssl.cnf curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_REVOKED_URL" 2>/dev/null ||
	REVOCHECK_SOCKET=$DAEMON_SOCK OPENSSL_CONF=$W/openssl-daemon.cnf curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_REVOKED_URL" 2>/dev/null ||
	! REVOCHECK_SOCKET=$DAEMON_SOCK OPENSSL_CONF=$W/openssl-daemon.cnf curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_GOOD_URL"; then
	echo "curl-overhead: the provider did not refuse the revoked site (or the daemon did not answer); not measuring" >&2
	exit 1
fi

echo "curl $(curl --version | head -1 | cut -d' ' -f2), $(openssl version), $(nproc) CPUs, alternating runs"
python3 - "$RUNS" "$K" "$W/openssl.cnf" "$ROOT_PEM" "$SITE_GOOD_URL" "$W/openssl-daemon.cnf" "$DAEMON_SOCK" <<'PY'
import os, statistics, subprocess, sys, time
runs, k, conf, root, url, dconf, sock = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
base = {k: v for k, v in os.environ.items() if k not in ("OPENSSL_CONF", "REVOCHECK_SOCKET")}
variants = {"without provider": dict(base),
            "with provider": dict(base, OPENSSL_CONF=conf, REVOCHECK_SOCKET="none"),
            "via daemon": dict(base, OPENSSL_CONF=dconf, REVOCHECK_SOCKET=sock)}


def run(cmd, env):
    """Wall time (ns) and page faults of one child process."""
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter_ns() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("curl-overhead: %s exited %d" % (cmd[0], p.returncode))
    return dt, ru.ru_minflt + ru.ru_majflt


def fault_cost_us(pages=2000):
    """What one page fault costs on this machine: touch fresh anonymous pages."""
    import mmap
    best = None
    for _ in range(5):
        m = mmap.mmap(-1, pages * 4096)
        t0 = time.perf_counter_ns()
        for i in range(0, pages * 4096, 4096):
            m[i] = 1
        dt = (time.perf_counter_ns() - t0) / pages / 1e3
        m.close()
        best = dt if best is None else min(best, dt)
    return best


def measure(title, cmd, runs, unit, faults=False):
    times = {k: [] for k in variants}
    flts = {k: [] for k in variants}
    for i in range(runs + 5):
        names = list(variants)
        order = names[i % 3:] + names[:i % 3]  # each variant in each position in turn
        for name in order:
            dt, f = run(cmd, variants[name])
            if i >= 5:  # warm-up runs are not counted
                times[name].append(dt / 1e6 / unit)
                flts[name].append(f)
    print(title)
    for name, ts in times.items():
        q = statistics.quantiles(ts, n=10)
        print("  %-17s median %7.3f ms   p10 %7.3f   p90 %7.3f" % (name, statistics.median(ts), q[0], q[-1]))
    w, wo = statistics.median(times["with provider"]), statistics.median(times["without provider"])
    print("  ratio (median with / median without): %.3f   difference %.3f ms" % (w / wo, w - wo))
    dm = statistics.median(times["via daemon"])
    print("  ratio daemon (median via daemon / median without): %.3f   difference %.3f ms" % (dm / wo, dm - wo))
    if faults:
        fw, fwo = statistics.median(flts["with provider"]), statistics.median(flts["without provider"])
        fdm = statistics.median(flts["via daemon"])
        us = fault_cost_us()
        # Page faults are where a VM differs most from bare metal: loading a
        # Go runtime into a process touches a few hundred fresh pages.
        print("  page faults: median %d vs %d (%+d); one fault costs %.2f us here, so they alone are %.2f ms"
              % (fw, fwo, fw - fwo, us, (fw - fwo) * us / 1e3))
        print("  page faults via daemon: median %d (%+d)" % (fdm, fdm - fwo))


measure("one curl process, one fetch (%d runs each):" % runs,
        ["curl", "-sS", "-o", "/dev/null", "--cacert", root, url], runs, 1, faults=True)
measure("one curl process, %d fresh handshakes; time per handshake (%d runs each):" % (k, max(runs // 10, 10)),
        ["curl", "-sS", "--http1.1", "-H", "Connection: close", "--no-sessionid", "--cacert", root] + [url] * k,
        max(runs // 10, 10), k)
PY
