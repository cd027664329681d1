#!/usr/bin/env bash
# proc-ab.sh [RUNS] [K] [ROUNDS] — issue 23's process-level figures, before
# and after side by side, from alternating runs on this machine:
#   - `revocheck daemon`: one adapter's round trip on a kept connection, and
#     64 concurrent connections (checks/s, p50/p99, CPU per check of the
#     daemon and of the client): ROUNDS rounds (default 5), each build's
#     daemon in turn, with bench/report/cdriver/checkd_load.c (the real
#     protocol and socket);
#   - curl with the OpenSSL provider, in-process and asking the daemon,
#     against plain curl: one fetch per process (RUNS, default 100) and K
#     fresh handshakes per process (default 50; RUNS/10 processes), every
#     variant of both builds in turn.
# "Before" is the build of commit $REVOCHECK_BEFORE (default 9e73b64, main
# before the issue-23 process work), made here from `git archive`, or the
# build directory $REVOCHECK_BEFORE_BUILD. "After" is this tree's build.
# Rows go to $BENCH_ROWS when set.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init proc-ab
RUNS=${1:-100}
K=${2:-50}
ROUNDS=${3:-5}
BASE=${REVOCHECK_BEFORE:-9e73b64}
for f in bin/revocheck lib/revocheck-openssl.so lib/librevocheck.so.0; do
	[[ -e $B/$f ]] || die "$B/$f missing; run make all"
done
if [[ -n ${REVOCHECK_BEFORE_BUILD:-} ]]; then
	OLD=$REVOCHECK_BEFORE_BUILD
else
	mkdir -p "$W/before"
	git archive "$BASE" | tar -x -C "$W/before" || die "cannot extract $BASE"
	make -C "$W/before" all >"$W/before-make.log" 2>&1 || { tail -20 "$W/before-make.log"; die "cannot build $BASE"; }
	OLD=$W/before/build
fi
cc -O2 -std=c11 -Wall -Wextra -Werror -pthread -o "$W/checkd_load" bench/report/cdriver/checkd_load.c ||
	die "cannot compile the C driver"
bench_sites
bench_der good
L=$W/good.leaf.der I=$W/good.issuer.der

# One daemon per build, each on its own trusted socket directory.
declare -A SOCK PID
for v in before after; do
	bin=$B/bin/revocheck
	[[ $v == before ]] && bin=$OLD/bin/revocheck
	mkdir -p -m 0755 "$W/run-$v"
	SOCK[$v]=$W/run-$v/check.sock
	"$bin" daemon --socket "${SOCK[$v]}" --cache-dir "$CACHE_DIR" >/dev/null &
	PID[$v]=$!
	BENCH_PIDS+=($!)
	for _ in $(seq 200); do [[ -S ${SOCK[$v]} ]] && break; sleep 0.05; done
	[[ -S ${SOCK[$v]} ]] || die "the $v daemon did not start"
done

kv() { sed -n "s/.*\b$2=\([0-9.]*\).*/\1/p" <<<"$1" | head -1; }
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
declare -A R50 R99 RATE L50 L99 DCPU CCPU
for r in $(seq "$ROUNDS"); do
	order=(before after)
	((r % 2)) || order=(after before)
	for v in "${order[@]}"; do
		out=$("$W/checkd_load" rtt "${SOCK[$v]}" "$L" "$I" 20000) || die "rtt $v failed"
		echo "round $r $v: $out"
		R50[$v]+=" $(kv "$out" p50_us)" R99[$v]+=" $(kv "$out" p99_us)"
		out=$("$W/checkd_load" load "${SOCK[$v]}" "$L" "$I" 64 2 3 "${PID[$v]}") || die "load $v failed"
		tot=$(grep '^total' <<<"$out") cpu=$(grep '^cpu' <<<"$out")
		echo "round $r $v: $tot $cpu"
		RATE[$v]+=" $(kv "$tot" per_s)" L50[$v]+=" $(kv "$tot" p50_us)" L99[$v]+=" $(kv "$tot" p99_us)"
		DCPU[$v]+=" $(kv "$cpu" daemon_us_per_check)" CCPU[$v]+=" $(kv "$cpu" client_us_per_check)"
	done
done
# row WHAT UNIT GOAL VERDICT-EXPR-ON-AFTER: medians over the rounds, before → after (ratio)
ab() {
	local what=$1 b=$2 a=$3 unit=$4 goal=$5 verdict=$6
	bench_row daemon "$what, median of $ROUNDS alternating rounds: before ($BASE) → after" \
		"$(awk -v b="$b" -v a="$a" -v u="$unit" 'BEGIN{printf "%s %s → %s %s (after/before %.2f)", b, u, a, u, a / b}')" \
		"$goal" "$verdict" "bench/proc-ab.sh $RUNS $K $ROUNDS"
}
# shellcheck disable=SC2086
{
	b=$(med ${R50[before]}) a=$(med ${R50[after]})
	ab "Check daemon round trip p50, one adapter on a kept connection (C client, real protocol)" "$b" "$a" µs "≤ 5 µs" "$(bench_verdict "$a" 5)"
	ab "Check daemon round trip p99, kept connection" "$(med ${R99[before]})" "$(med ${R99[after]})" µs "—" "—"
	b=$(med ${RATE[before]}) a=$(med ${RATE[after]})
	ab "Check daemon, 64 connections each with a check outstanding (2 client threads, 3 s): checks/s" "$b" "$a" "/s" "≥ 100 000/s" "$(bench_verdict 100000 "$a")"
	ab "Check daemon, 64 connections: latency p50" "$(med ${L50[before]})" "$(med ${L50[after]})" µs "—" "—"
	ab "Check daemon, 64 connections: latency p99" "$(med ${L99[before]})" "$(med ${L99[after]})" µs "flat" "—"
	ab "Check daemon, 64 connections: daemon CPU per check (user+sys)" "$(med ${DCPU[before]})" "$(med ${DCPU[after]})" µs "—" "—"
	ab "Check daemon, 64 connections: load client CPU per check (user+sys)" "$(med ${CCPU[before]})" "$(med ${CCPU[after]})" µs "—" "—"
}

# ---- curl: plain, in-process and via the daemon, both builds in turn
for v in before after; do
	bd=$B
	[[ $v == before ]] && bd=$OLD
	bench_cnf "$W/inproc-$v.cnf" "$bd" "library=$bd/lib/librevocheck.so.0" "cache-dir=$CACHE_DIR"
	bench_cnf "$W/daemon-$v.cnf" "$bd" "library=$W/no-library-here.so" "unavailable=deny"
	# Sanity: the revoked site is refused both ways.
	if REVOCHECK_SOCKET=none OPENSSL_CONF=$W/inproc-$v.cnf curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_REVOKED_URL" 2>/dev/null ||
		REVOCHECK_SOCKET=${SOCK[$v]} OPENSSL_CONF=$W/daemon-$v.cnf curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_REVOKED_URL" 2>/dev/null ||
		! REVOCHECK_SOCKET=${SOCK[$v]} OPENSSL_CONF=$W/daemon-$v.cnf curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_GOOD_URL"; then
		die "$v: the provider did not refuse the revoked site (or the daemon did not answer)"
	fi
done
python3 - "$RUNS" "$K" "$ROOT_PEM" "$SITE_GOOD_URL" "$W" "${SOCK[before]}" "${SOCK[after]}" "$BASE" "${BENCH_ROWS:-}" <<'PY'
import os, statistics, subprocess, sys, time
runs, k, root, url, w, sb, sa, base, rows = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:]
env0 = {x: y for x, y in os.environ.items() if x not in ("OPENSSL_CONF", "REVOCHECK_SOCKET")}
variants = {"plain": dict(env0)}
for v, sock in (("before", sb), ("after", sa)):
    variants["in-process " + v] = dict(env0, OPENSSL_CONF="%s/inproc-%s.cnf" % (w, v), REVOCHECK_SOCKET="none")
    variants["daemon " + v] = dict(env0, OPENSSL_CONF="%s/daemon-%s.cnf" % (w, v), REVOCHECK_SOCKET=sock)


def run(cmd, env):
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter_ns() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("proc-ab: curl failed")
    return dt / 1e6, (ru.ru_utime + ru.ru_stime) * 1e3


def measure(cmd, n, unit):
    t = {x: [] for x in variants}
    c = {x: [] for x in variants}
    names = list(variants)
    for i in range(n + 3):
        for name in names[i % len(names):] + names[:i % len(names)]:
            dt, cpu = run(cmd, variants[name])
            if i >= 3:
                t[name].append(dt / unit)
                c[name].append(cpu / unit)
    return {x: statistics.median(v) for x, v in t.items()}, {x: statistics.median(v) for x, v in c.items()}


def row(what, fig, goal, verdict):
    print("  %s: %s (goal %s, %s)" % (what, fig, goal, verdict))
    if rows:
        with open(rows, "a") as f:
            f.write("\t".join(["process", what, fig, goal, verdict, "bench/proc-ab.sh %d %d" % (runs, k)]) + "\n")


one = ["curl", "-sS", "-o", "/dev/null", "--cacert", root, url]
many = ["curl", "-sS", "--http1.1", "-H", "Connection: close", "--no-sessionid", "--cacert", root] + [url] * k
for title, cmd, n, unit, goals in (
        ("one fetch per process, median of %d alternating runs" % runs, one, runs, 1, {"in-process": 1.15, "daemon": 1.02}),
        ("%d fresh handshakes per process, time per handshake, median of %d alternating runs" % (k, max(runs // 10, 10)), many, max(runs // 10, 10), k, {"in-process": None, "daemon": 1.05})):
    wall, cpu = measure(cmd, n, unit)
    p, pc = wall["plain"], cpu["plain"]
    print("%s: plain %.3f ms (cpu %.3f)" % (title, p, pc))
    for mode in ("in-process", "daemon"):
        b, a = wall[mode + " before"], wall[mode + " after"]
        cb, ca = cpu[mode + " before"], cpu[mode + " after"]
        g = goals[mode]
        row("curl + OpenSSL provider %s, %s: before (%s) → after, against plain curl" % (
                "in-process (Go runtime in curl)" if mode == "in-process" else "asking `revocheck daemon`", title, base),
            "%.3f → %.3f ms vs %.3f ms: ratio %.3f → %.3f; CPU %.3f → %.3f vs %.3f ms: ratio %.2f → %.2f" % (
                b, a, p, b / p, a / p, cb, ca, pc, cb / pc, ca / pc),
            "≤ %.2f" % g if g else "—", ("meets" if a / p <= g else "MISSES") if g else "—")
PY
