#!/usr/bin/env bash
# intermediates-overhead.sh [RUNS] — what chain completion (issue 21) costs
# curl with the OpenSSL provider, in two parts:
#
#  1. The common path, a server sending its full chain: curl without the
#     provider, with main's provider (built here from `git archive main`)
#     and with this tree's, side by side, alternating, wall time per
#     process; then the instructions curl executes (callgrind) with main's
#     and this tree's provider. This tree's provider looks, at every
#     X509_STORE_CTX_init, for the presented chain's top and asks the
#     trust store for its issuer: that is all completion adds here.
#  2. One completion: the same leaf served by `openssl s_server` with and
#     without its intermediate (-cert_chain), curl with this tree's
#     provider and a cache holding the intermediate (revocheck mirror
#     intermediates --out CACHE): the leaf-only fetch costs one lookup
#     (the index is mapped on first use) and a longer chain to verify.
#
# Needs make all, git, curl, openssl, python3 and valgrind. Set
# MAIN_BUILD=DIR to use an existing build of main (DIR/lib) instead.
# Everything stays on 127.0.0.1; the PKI and caches are throwaway.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init intermediates-overhead
RUNS=${1:-100}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
for c in git curl openssl python3 valgrind; do
	command -v "$c" >/dev/null || die "needs $c"
done
[[ -f $B/lib/revocheck-openssl.so && -f $B/lib/librevocheck.so.0 ]] || die "run make all first"

# main's provider: only the C files differ; it loads this tree's
# librevocheck.so (the C ABI only grew).
MB=${MAIN_BUILD:-}
if [[ -z $MB ]]; then
	mkdir -p "$W/main"
	git archive main | tar -x -C "$W/main"
	MB=$W/main-build
	make -s -C "$W/main" BUILD="$MB" "$MB/lib/revocheck-openssl.so" >/dev/null || die "cannot build main's provider"
fi
[[ -f $MB/lib/revocheck-openssl.so ]] || die "$MB/lib/revocheck-openssl.so missing"

bench_sites
cp -a "$CACHE_DIR" "$W/cache-set"
"$B/bin/revocheck" mirror intermediates --out "$W/cache-set" "$PKI_DIR/int.pem" >/dev/null ||
	die "revocheck mirror intermediates failed"
cnf() { # NAME MODULE CACHE
	cat >"$W/$1.cnf" <<CNF
.include $ROOT/openssl-provider/revocheck-openssl.cnf
[ revocheck_sect ]
module = $2
library = $B/lib/librevocheck.so.0
cache-dir = $3
socket = none
CNF
}
cnf main "$MB/lib/revocheck-openssl.so" "$W/cache-set"
cnf this "$B/lib/revocheck-openssl.so" "$W/cache-set"

# The same leaf, served alone and with its intermediate.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
LEAF_PORT=$(port)
FULL_PORT=$(port)
serve() { # PORT EXTRA-ARGS...
	local p=$1
	shift
	OPENSSL_CONF=/dev/null openssl s_server -quiet -accept "127.0.0.1:$p" -cert "$PKI_DIR/good.pem" \
		-key "$PKI_DIR/good.key.pem" -www "$@" </dev/null >/dev/null 2>&1 &
	BENCH_PIDS+=($!)
}
serve "$LEAF_PORT"
serve "$FULL_PORT" -cert_chain "$PKI_DIR/int.pem"
for p in "$LEAF_PORT" "$FULL_PORT"; do
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.05; done
done
LEAF_URL=https://127.0.0.1:$LEAF_PORT/
FULL_URL=https://127.0.0.1:$FULL_PORT/

# Sanity: the leaf-only server fails without completion and works with it;
# the revoked site is refused by both providers.
OPENSSL_CONF=$W/main.cnf curl -sS -o /dev/null --cacert "$ROOT_PEM" "$LEAF_URL" 2>/dev/null &&
	die "the leaf-only server verified without completion"
OPENSSL_CONF=$W/this.cnf curl -sS -o /dev/null --cacert "$ROOT_PEM" "$LEAF_URL" ||
	die "this tree's provider did not complete the chain"
for v in main this; do
	OPENSSL_CONF=$W/$v.cnf curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_REVOKED_URL" 2>/dev/null &&
		die "the $v provider did not refuse the revoked site"
done

echo "curl $(curl --version | head -1 | cut -d' ' -f2), $(openssl version), $(nproc) CPUs, alternating runs, $RUNS each"
python3 - "$RUNS" "$ROOT_PEM" "$SITE_GOOD_URL" "$LEAF_URL" "$FULL_URL" "$W/main.cnf" "$W/this.cnf" <<'PY'
import os, statistics, subprocess, sys, time
runs, root, good, leaf, full, mainc, thisc = int(sys.argv[1]), *sys.argv[2:]
base = {k: v for k, v in os.environ.items() if k not in ("OPENSSL_CONF", "REVOCHECK_SOCKET")}
base["REVOCHECK_SOCKET"] = "none"


def run(env, url):
    t0 = time.perf_counter_ns()
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "--cacert", root, url], env=env)
    if p.returncode != 0:
        sys.exit("intermediates-overhead: curl %s exited %d" % (url, p.returncode))
    return (time.perf_counter_ns() - t0) / 1e6


def measure(title, variants):
    times = {k: [] for k in variants}
    names = list(variants)
    for i in range(runs + 5):
        for name in names[i % len(names):] + names[:i % len(names)]:
            dt = run(*variants[name])
            if i >= 5:
                times[name].append(dt)
    print(title)
    for name, ts in times.items():
        q = statistics.quantiles(ts, n=10)
        print("  %-34s median %7.3f ms   p10 %7.3f   p90 %7.3f" % (name, statistics.median(ts), q[0], q[-1]))
    return {k: statistics.median(v) for k, v in times.items()}


m = measure("complete chain (the test site sends leaf + intermediate):", {
    "without provider": (dict(base), good),
    "main's provider": (dict(base, OPENSSL_CONF=mainc), good),
    "this provider": (dict(base, OPENSSL_CONF=thisc), good)})
print("  ratio this/main %.3f (difference %+.3f ms); main/without %.3f; this/without %.3f" % (
    m["this provider"] / m["main's provider"], m["this provider"] - m["main's provider"],
    m["main's provider"] / m["without provider"], m["this provider"] / m["without provider"]))
c = measure("one completion (openssl s_server, same leaf, this provider, cache with the set):", {
    "full chain sent": (dict(base, OPENSSL_CONF=thisc), full),
    "leaf only sent, completed": (dict(base, OPENSSL_CONF=thisc), leaf)})
print("  completion costs %+.3f ms per process (ratio %.3f)" % (
    c["leaf only sent, completed"] - c["full chain sent"], c["leaf only sent, completed"] / c["full chain sent"]))
PY

# Instructions (callgrind, all threads) of one curl process. With the
# library in curl, the Go runtime's threads make counts vary by ~0.1%
# between runs; through the check daemon (no Go in curl; the daemon's own
# instructions are not counted) they are steady, which is what the
# complete-chain comparison needs. Go under callgrind: see
# curl-instructions.sh.
bench_daemon "$W/cache-set"
cnf main-daemon "$MB/lib/revocheck-openssl.so" "$W/cache-set"
cnf this-daemon "$B/lib/revocheck-openssl.so" "$W/cache-set"
for v in main-daemon this-daemon; do
	sed -i -e "s|^socket = none|socket = $DAEMON_SOCK|" -e "s|^library = .*|library = $W/no-library-here.so|" "$W/$v.cnf"
	echo "unavailable = deny" >>"$W/$v.cnf"
done
instructions() { # CNF URL
	local attempt
	for attempt in 1 2 3; do
		if OPENSSL_CONF=$1 GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind \
			--callgrind-out-file="$W/cg.out" curl -sS -o /dev/null --cacert "$ROOT_PEM" "$2" >"$W/cg.log" 2>&1; then
			awk '/Collected :/ { print $NF }' "$W/cg.log"
			return
		fi
		echo "intermediates-overhead: valgrind failed (attempt $attempt), retrying" >&2
	done
	cat "$W/cg.log" >&2
	die "curl failed under valgrind"
}
median_of() { # CNF URL N: median instructions of N runs
	local i
	for ((i = 0; i < $3; i++)); do instructions "$1" "$2"; done >"$W/ir"
	bench_median "$W/ir"
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f%%", (a - b) * 100 / b }'; }
echo "instructions, one curl process (callgrind, median of 3):"
DM=$(median_of "$W/main-daemon.cnf" "$SITE_GOOD_URL" 3)
DT=$(median_of "$W/this-daemon.cnf" "$SITE_GOOD_URL" 3)
printf '  complete chain, via the daemon: main %d, this %d (%+d, %s)\n' "$DM" "$DT" $((DT - DM)) "$(pct "$DT" "$DM")"
IM=$(median_of "$W/main.cnf" "$SITE_GOOD_URL" 3)
IT=$(median_of "$W/this.cnf" "$SITE_GOOD_URL" 3)
printf '  complete chain, library in curl: main %d, this %d (%+d, %s)\n' "$IM" "$IT" $((IT - IM)) "$(pct "$IT" "$IM")"
IF=$(median_of "$W/this.cnf" "$FULL_URL" 3)
IL=$(median_of "$W/this.cnf" "$LEAF_URL" 3)
printf '  s_server, library in curl: full chain %d, leaf only completed %d (%+d, %s)\n' "$IF" "$IL" $((IL - IF)) "$(pct "$IL" "$IF")"
DF=$(median_of "$W/this-daemon.cnf" "$FULL_URL" 3)
DL=$(median_of "$W/this-daemon.cnf" "$LEAF_URL" 3)
printf '  s_server, via the daemon: full chain %d, leaf only completed %d (%+d, %s)\n' "$DF" "$DL" $((DL - DF)) "$(pct "$DL" "$DF")"

# The servers die of the SIGTERM bench_cleanup sends; that is not a failure.
set +e
bench_cleanup
trap - EXIT
exit 0
