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

# Instructions (callgrind, all threads) of one curl fetching the complete
# chain: main's provider vs this one. Go under callgrind: see
# curl-instructions.sh.
instructions() { # CNF URL
	for attempt in 1 2 3; do
		if OPENSSL_CONF=$1 REVOCHECK_SOCKET=none GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind \
			--callgrind-out-file="$W/cg.out" curl -sS -o /dev/null --cacert "$ROOT_PEM" "$2" >"$W/cg.log" 2>&1; then
			awk '/Collected :/ { print $NF }' "$W/cg.log"
			return
		fi
		echo "intermediates-overhead: valgrind failed (attempt $attempt), retrying" >&2
	done
	cat "$W/cg.log" >&2
	die "curl failed under valgrind"
}
IM=$(instructions "$W/main.cnf" "$SITE_GOOD_URL")
IT=$(instructions "$W/this.cnf" "$SITE_GOOD_URL")
IL=$(instructions "$W/this.cnf" "$LEAF_URL")
IF=$(instructions "$W/this.cnf" "$FULL_URL")
echo "instructions, one curl process (callgrind):"
printf '  complete chain: main %d, this %d (%+d, %+.3f%%)\n' "$IM" "$IT" $((IT - IM)) "$(awk -v a="$IT" -v b="$IM" 'BEGIN{print (a-b)*100/b}')"
printf '  s_server: full chain %d, leaf only completed %d (%+d, %+.1f%%)\n' "$IF" "$IL" $((IL - IF)) "$(awk -v a="$IL" -v b="$IF" 'BEGIN{print (a-b)*100/b}')"
