#!/usr/bin/env bash
# checkd-load.sh [SECONDS] [CONNS] [THREADS] — `revocheck daemon` under the
# real protocol and socket (bench/report/cdriver/checkd_load.c): the round
# trip of one adapter on a kept connection, the same round trip against a
# C server that answers without looking at the request (the floor of this
# socket type on this machine), and CONNS concurrent connections (default
# 64) driven by THREADS client threads (default 2) for SECONDS (default 5):
# checks/s, p50/p99 overall and p99 per second.
#
# Needs make all. Rows go to $BENCH_ROWS when set. REVOCHECK_BUILD=DIR
# measures another build's daemon (bench/report/lib.sh).
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init checkd-load
SECONDS_=${1:-5}
CONNS=${2:-64}
THREADS=${3:-2}
N=${RTT_N:-20000}
[[ -x $B/bin/revocheck ]] || die "$B/bin/revocheck missing; run make all"
cc -O2 -std=c11 -Wall -Wextra -Werror -pthread -o "$W/checkd_load" bench/report/cdriver/checkd_load.c ||
	die "cannot compile the C driver"
bench_sites
bench_der good
bench_daemon "$CACHE_DIR"
DPID=${BENCH_PIDS[-1]}
L=$W/good.leaf.der I=$W/good.issuer.der

"$W/checkd_load" echo "$W/echo.sock" &
BENCH_PIDS+=($!)
for _ in $(seq 100); do [[ -S $W/echo.sock ]] && break; sleep 0.02; done

sc=$("$W/checkd_load" syscall) || die "syscall timing failed"
echo "$sc"
floor=$("$W/checkd_load" rtt "$W/echo.sock" "$L" "$I" "$N") || die "echo rtt failed"
echo "floor:  $floor"
rtt=$("$W/checkd_load" rtt "$DAEMON_SOCK" "$L" "$I" "$N") || die "daemon rtt failed"
echo "daemon: $rtt"
out=$("$W/checkd_load" load "$DAEMON_SOCK" "$L" "$I" "$CONNS" "$THREADS" "$SECONDS_" "$DPID") || die "load failed"
echo "$out"

kv() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1" | head -1; }
p50=$(kv "$rtt" p50_us) p99=$(kv "$rtt" p99_us) f50=$(kv "$floor" p50_us) f99=$(kv "$floor" p99_us)
tot=$(grep '^total' <<<"$out")
rate=$(kv "$tot" per_s) l50=$(kv "$tot" p50_us) l99=$(kv "$tot" p99_us) l999=$(kv "$tot" p999_us)
s99lo=$(kv "$tot" p99_per_second_min_us) s99hi=$(kv "$tot" p99_per_second_max_us)
cpu=$(grep '^cpu' <<<"$out") dcpu=$(kv "$cpu" daemon_us_per_check) ccpu=$(kv "$cpu" client_us_per_check)
cmd="bench/checkd-load.sh $SECONDS_ $CONNS $THREADS"
bench_row daemon "Check daemon round trip, one adapter on a kept connection (C client, real protocol, test-site chain), median of $N" \
	"p50 $p50 µs, p99 $p99 µs (a C server that answers without working: p50 $f50 µs, p99 $f99 µs; one system call here: $(kv "$sc" ns) ns, a round trip makes at least four)" \
	"≤ 5 µs" "$(bench_verdict "$p50" 5)" "$cmd"
bench_row daemon "Check daemon under load: $CONNS connections each with a check outstanding, $THREADS client threads, $SECONDS_ s" \
	"$rate checks/s; latency p50 $l50 µs, p99 $l99 µs, p99.9 $l999 µs; p99 per second $s99lo–$s99hi µs; CPU per check: daemon $dcpu µs, load client $ccpu µs (two idle cores: $(awk -v d="$dcpu" -v c="$ccpu" 'BEGIN{printf "%.0f", 2e6 / (d + c)}') checks/s at most)" \
	"≥ 100 000 checks/s, flat p99" "$(awk -v r="$rate" -v lo="$s99lo" -v hi="$s99hi" 'BEGIN{print (r >= 100000 && hi <= 2 * lo) ? "meets" : "MISSES"}')" "$cmd"
