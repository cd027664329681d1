#!/usr/bin/env bash
# tstclnt-overhead.sh [RUNS] — whole-process cost of the NSS trust module:
# the median wall time of one `tstclnt` connection (HTTP/1.0 GET to the
# "good" test site, until the server closes) with an NSS database where
# libnssrevocheck.so is registered by modutil (as docs/NSS.md tells users)
# versus an identical database without it, in alternating runs (the order
# flips every pair). A run with the module pays everything a real one does:
# NSS loading the module, the module's dlopen of librevocheck.so and its Go
# runtime start, the trust queries of the handshake. A third variant uses
# the same module asking the check daemon (`revocheck daemon`, started here),
# with librevocheck.so made unloadable so only the daemon can answer.
#
# Needs make all and the NSS tools (certutil, modutil, tstclnt). Rows go to
# $BENCH_ROWS when set (bench/run-all.sh). Only 127.0.0.1 is used.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init tstclnt-overhead
RUNS=${1:-51}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
MODULE=$B/lib/libnssrevocheck.so
[[ -f $MODULE ]] || die "$MODULE missing (run make all)"
[[ -f $B/lib/librevocheck.so.0 ]] || die "$B/lib/librevocheck.so.0 missing (run make all)"
for t in certutil modutil tstclnt; do
	command -v $t >/dev/null || die "$t is not installed (Debian: libnss3-tools)"
done

bench_sites
bench_daemon "$CACHE_DIR"
echo "# defaults only" >"$W/config.toml"
export REVOCHECK_CONFIG=$W/config.toml REVOCHECK_SOCKET=none

# Databases trusting the test root: without the module, with it, and with
# it asking the daemon (the module's cache-dir is the daemon's: served).
for db in plain module daemon; do
	mkdir -p "$W/$db"
	certutil -N --empty-password -d "sql:$W/$db" >/dev/null
	certutil -A -n "revocheck bench root" -t "C,," -a -i "$ROOT_PEM" -d "sql:$W/$db"
done
modutil -add revocheck -libfile "$MODULE" -string "cache-dir=$CACHE_DIR" -dbdir "sql:$W/module" -force >/dev/null ||
	die "modutil -add failed"
modutil -add revocheck -libfile "$MODULE" -dbdir "sql:$W/daemon" -force \
	-string "cache-dir=$CACHE_DIR socket=$DAEMON_SOCK library=$W/no-library-here.so" >/dev/null ||
	die "modutil -add failed"

# tstclnt exits when the server closes, given a regular file (not a pipe)
# as stdin.
printf 'GET / HTTP/1.0\r\n\r\n' >"$W/request"
tst() { # DB PORT
	tstclnt -h 127.0.0.1 -p "$2" -d "sql:$W/$1" <"$W/request" 2>&1
}

# Sanity: the module is live (revoked refused) and the good site passes both ways.
out=$(tst module "$SITE_REVOKED_PORT") && die "the module did not refuse the revoked site: $out"
[[ $out == *SEC_ERROR_UNTRUSTED_CERT* ]] || die "revoked site refused, but not by the module: $out"
tst module "$SITE_GOOD_PORT" | grep -q "hello from good" || die "the good site failed with the module"
tst plain "$SITE_GOOD_PORT" | grep -q "hello from good" || die "the good site failed without the module"
out=$(env -u REVOCHECK_CONFIG bash -c "$(declare -f tst); W=$W; tst daemon $SITE_REVOKED_PORT") &&
	die "the module did not refuse the revoked site through the daemon: $out"
[[ $out == *SEC_ERROR_UNTRUSTED_CERT* ]] || die "revoked site not refused through the daemon: $out"

# Alternating runs in python3: wall time and the child's CPU time (user +
# system, from wait4) — the wall time of one connection includes idle
# waiting on the loopback, the CPU time is what the module costs.
python3 - "$RUNS" "$W" "$SITE_GOOD_PORT" >"$W/result" <<'PY' || die "measurement failed"
import os, statistics, subprocess, sys, time
runs, w, port = int(sys.argv[1]), sys.argv[2], sys.argv[3]
res = {"module": ([], []), "plain": ([], []), "daemon": ([], [])}
# The daemon variant: no REVOCHECK_CONFIG (the daemon's configuration).
envs = {"module": dict(os.environ), "plain": dict(os.environ),
        "daemon": {k: v for k, v in os.environ.items() if k not in ("REVOCHECK_CONFIG", "REVOCHECK_SOCKET")}}
names = list(res)
for i in range(runs + 3):
    order = names[i % 3:] + names[:i % 3]  # each variant in each position in turn
    for db in order:
        with open(w + "/request", "rb") as req:
            t0 = time.perf_counter_ns()
            p = subprocess.Popen(["tstclnt", "-h", "127.0.0.1", "-p", port, "-d", "sql:" + w + "/" + db],
                                 stdin=req, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=envs[db])
            _, status, ru = os.wait4(p.pid, 0)
            dt = time.perf_counter_ns() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit("tstclnt (%s) failed" % db)
        if i >= 3:  # warm-up runs are not counted
            res[db][0].append(dt / 1e6)
            res[db][1].append((ru.ru_utime + ru.ru_stime) * 1e3)
m = {k: (statistics.median(v[0]), statistics.median(v[1])) for k, v in res.items()}
diff = statistics.median(a - b for a, b in zip(res["module"][0], res["plain"][0]))
ddiff = statistics.median(a - b for a, b in zip(res["daemon"][0], res["plain"][0]))
print(m["module"][0], m["plain"][0], m["module"][1], m["plain"][1], diff, m["daemon"][0], m["daemon"][1], ddiff)
PY
read -r w p wc pc d dw dc dd <"$W/result"
ratio=$(awk -v w="$w" -v p="$p" 'BEGIN { printf "%.3f", w / p }')
printf 'tstclnt (NSS %s) against %s, %d alternating pairs (%s CPUs)\n' \
	"$(dpkg-query -W -f '${Version}' libnss3 2>/dev/null || echo '?')" "$SITE_GOOD_URL" "$RUNS" "$(nproc)"
printf 'wall: without module %.2f ms, with module %.2f ms, ratio %s, median per-pair difference %+.2f ms\n' "$p" "$w" "$ratio" "$d"
printf 'CPU:  without module %.2f ms, with module %.2f ms, ratio %.3f\n' "$pc" "$wc" "$(awk -v a="$wc" -v b="$pc" 'BEGIN{print a/b}')"
dratio=$(awk -v w="$dw" -v p="$p" 'BEGIN { printf "%.3f", w / p }')
printf 'via daemon: wall %.2f ms, ratio %s, median per-pair difference %+.2f ms; CPU %.2f ms, ratio %.3f\n' "$dw" "$dratio" "$dd" "$dc" "$(awk -v a="$dc" -v b="$pc" 'BEGIN{print a/b}')"
bench_row process "tstclnt (NSS trust module via modutil), one connection, median of $RUNS alternating pairs" \
	"$(awk -v w="$w" -v p="$p" -v d="$d" -v wc="$wc" -v pc="$pc" 'BEGIN { printf "wall %.2f vs %.2f ms: ratio %.3f (pair diff %+.2f ms); CPU %.2f vs %.2f ms: ratio %.2f", w, p, w/p, d, wc, pc, wc/pc }')" \
	"≤ 1.05" "$(bench_verdict "$ratio" 1.05)" "bench/tstclnt-overhead.sh $RUNS"
bench_row process "tstclnt (NSS trust module asking \`revocheck daemon\`, no Go runtime in tstclnt), one connection, median of $RUNS alternating runs" \
	"$(awk -v w="$dw" -v p="$p" -v d="$dd" -v wc="$dc" -v pc="$pc" 'BEGIN { printf "wall %.2f vs %.2f ms: ratio %.3f (pair diff %+.2f ms); CPU %.2f vs %.2f ms: ratio %.2f", w, p, w/p, d, wc, pc, wc/pc }')" \
	"≤ 1.05" "$(bench_verdict "$dratio" 1.05)" "bench/tstclnt-overhead.sh $RUNS"
