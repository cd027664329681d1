#!/usr/bin/env bash
# tstclnt-overhead.sh [RUNS] — whole-process cost of the NSS trust module:
# the median wall time of one `tstclnt` connection (HTTP/1.0 GET to the
# "good" test site, until the server closes) with an NSS database where
# libnssrevocheck.so is registered by modutil (as docs/NSS.md tells users)
# versus an identical database without it, in alternating runs (the order
# flips every pair). A run with the module pays everything a real one does:
# NSS loading the module, the module's dlopen of librevocheck.so and its Go
# runtime start, the trust queries of the handshake.
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
echo "# defaults only" >"$W/config.toml"
export REVOCHECK_CONFIG=$W/config.toml

# Two databases trusting the test root; one with the module.
for db in plain module; do
	mkdir -p "$W/$db"
	certutil -N --empty-password -d "sql:$W/$db" >/dev/null
	certutil -A -n "revocheck bench root" -t "C,," -a -i "$ROOT_PEM" -d "sql:$W/$db"
done
modutil -add revocheck -libfile "$MODULE" -string "cache-dir=$CACHE_DIR" -dbdir "sql:$W/module" -force >/dev/null ||
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

run_us() { # plain|module
	local t0 t1
	t0=$EPOCHREALTIME
	tst "$1" "$SITE_GOOD_PORT" >/dev/null || die "tstclnt ($1) failed"
	t1=$EPOCHREALTIME
	echo $((10#${t1/./} - 10#${t0/./}))
}

for _ in 1 2 3; do run_us module >/dev/null; run_us plain >/dev/null; done # warm-up
: >"$W/with"
: >"$W/without"
for ((i = 0; i < RUNS; i++)); do
	if ((i % 2 == 0)); then
		run_us module >>"$W/with"
		run_us plain >>"$W/without"
	else
		run_us plain >>"$W/without"
		run_us module >>"$W/with"
	fi
done
paste "$W/with" "$W/without" | awk '{print $1 - $2}' >"$W/diff"
w=$(bench_median "$W/with")
p=$(bench_median "$W/without")
d=$(bench_median "$W/diff")
ratio=$(awk -v w="$w" -v p="$p" 'BEGIN { printf "%.3f", w / p }')
printf 'tstclnt (NSS %s) against %s, %d alternating pairs (%s CPUs)\n' \
	"$(dpkg-query -W -f '${Version}' libnss3 2>/dev/null || echo '?')" "$SITE_GOOD_URL" "$RUNS" "$(nproc)"
printf 'median without module %.2f ms, with module %.2f ms, ratio %s, median per-pair difference %+.2f ms\n' \
	"$(awk -v v="$p" 'BEGIN{print v/1000}')" "$(awk -v v="$w" 'BEGIN{print v/1000}')" "$ratio" \
	"$(awk -v v="$d" 'BEGIN{print v/1000}')"
bench_row process "tstclnt (NSS trust module via modutil), one connection, median of $RUNS alternating pairs" \
	"$(awk -v w="$w" -v p="$p" -v d="$d" 'BEGIN { printf "%.2f vs %.2f ms: ratio %.3f (pair diff %+.2f ms)", w/1000, p/1000, w/p, d/1000 }')" \
	"≤ 1.05" "$(bench_verdict "$ratio" 1.05)" "bench/tstclnt-overhead.sh $RUNS"
