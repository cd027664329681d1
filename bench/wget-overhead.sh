#!/usr/bin/env bash
# Whole-process cost of the GnuTLS verify hook: the median wall time of
#   wget https://127.0.0.1:PORT/   (the "good" test site: covered, not revoked)
# with LD_PRELOAD=build/lib/librevocheck-gnutls.so versus without, in
# alternating runs (the order flips every pair, so drift and caching hit both
# sides alike). Each hooked run pays everything a real one does: dlopen of
# librevocheck.so, Go runtime start, config and cache open, two checks.
# A third variant ("via daemon") runs the same hook asking the check daemon
# (`revocheck daemon`, started here; librevocheck.so made unloadable, so
# only the daemon can answer): no Go runtime enters wget.
#
#   bench/wget-overhead.sh [RUNS]        RUNS pairs, default 51
#
# Needs make all (build/lib) and Go (to build the test sites if
# build/bin/revocheck-testsites is absent). Only 127.0.0.1 is used.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init wget-overhead
RUNS=${1:-51}
HOOK=$B/lib/librevocheck-gnutls.so

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
[[ -f $HOOK ]] || die "$HOOK missing (run make all)"
[[ -f $B/lib/librevocheck.so.0 ]] || die "$B/lib/librevocheck.so.0 missing (run make go-lib)"
command -v wget >/dev/null || die "wget is not installed"

bench_sites
bench_daemon "$CACHE_DIR"
mkdir "$W/xdg" # no user config file: the daemon is asked

echo "# defaults only" >"$W/config.toml"
export REVOCHECK_CONFIG=$W/config.toml REVOCHECK_CACHE_DIR=$CACHE_DIR REVOCHECK_SOCKET=none
WGET=(wget --no-config --no-hsts -q --tries=1 --timeout=20 --ca-certificate="$ROOT_PEM" -O /dev/null)
# The daemon variant's environment: the daemon's configuration, no library.
VIA_DAEMON=(env -u REVOCHECK_CONFIG -u REVOCHECK_CACHE_DIR REVOCHECK_SOCKET="$DAEMON_SOCK"
	XDG_CONFIG_HOME="$W/xdg" REVOCHECK_LIBRARY="$W/no-library-here.so" REVOCHECK_GNUTLS_UNAVAILABLE=deny
	LD_PRELOAD="$HOOK")

# Sanity: the hook is live (revoked refused) and the good site passes both ways.
LD_PRELOAD=$HOOK "${WGET[@]}" "$SITE_REVOKED_URL" 2>/dev/null && die "the hook did not refuse the revoked site"
LD_PRELOAD=$HOOK "${WGET[@]}" "$SITE_GOOD_URL" || die "the good site failed with the hook"
"${WGET[@]}" "$SITE_GOOD_URL" || die "the good site failed without the hook"
"${VIA_DAEMON[@]}" "${WGET[@]}" "$SITE_REVOKED_URL" 2>/dev/null && die "the daemon did not refuse the revoked site"
"${VIA_DAEMON[@]}" "${WGET[@]}" "$SITE_GOOD_URL" || die "the good site failed through the daemon"

# run_us with|without|daemon: one wget, prints its wall time in microseconds.
run_us() {
	local t0 t1
	if [[ $1 == with ]]; then
		t0=$EPOCHREALTIME
		LD_PRELOAD=$HOOK "${WGET[@]}" "$SITE_GOOD_URL" || die "hooked run failed"
		t1=$EPOCHREALTIME
	elif [[ $1 == daemon ]]; then
		t0=$EPOCHREALTIME
		"${VIA_DAEMON[@]}" "${WGET[@]}" "$SITE_GOOD_URL" || die "daemon run failed"
		t1=$EPOCHREALTIME
	else
		t0=$EPOCHREALTIME
		"${WGET[@]}" "$SITE_GOOD_URL" || die "plain run failed"
		t1=$EPOCHREALTIME
	fi
	echo $((10#${t1/./} - 10#${t0/./}))
}

for _ in 1 2 3; do run_us with >/dev/null; run_us without >/dev/null; run_us daemon >/dev/null; done # warm-up
: >"$W/with"; : >"$W/without"; : >"$W/daemon"
ORDER=(with without daemon)
for ((i = 0; i < RUNS; i++)); do
	for ((j = 0; j < 3; j++)); do # each variant in each position in turn
		v=${ORDER[(i + j) % 3]}
		run_us "$v" >>"$W/$v"
	done
done

# stats FILE: "median min max" in ms.
stats() {
	sort -n "$1" | awk '{v[NR] = $1} END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f %.2f %.2f\n", m / 1000, v[1] / 1000, v[NR] / 1000 }'
}
read -r w_med w_min w_max < <(stats "$W/with")
read -r p_med p_min p_max < <(stats "$W/without")
read -r v_med v_min v_max < <(stats "$W/daemon")
printf 'wget %s against %s, %d alternating pairs (%s)\n' "$(wget --version | head -1 | awk '{print $3}')" \
	"$SITE_GOOD_URL" "$RUNS" "$(nproc) CPUs, $(uname -r)"
printf '%-16s %10s %10s %10s\n' "" "median ms" "min ms" "max ms"
printf '%-16s %10s %10s %10s\n' "without hook" "$p_med" "$p_min" "$p_max"
printf '%-16s %10s %10s %10s\n' "with hook" "$w_med" "$w_min" "$w_max"
printf '%-16s %10s %10s %10s\n' "via daemon" "$v_med" "$v_min" "$v_max"
awk -v w="$w_med" -v p="$p_med" 'BEGIN { printf "median ratio with/without: %.3f (%+.2f ms)\n", w / p, w - p }'
awk -v w="$v_med" -v p="$p_med" 'BEGIN { printf "median ratio daemon/without: %.3f (%+.2f ms)\n", w / p, w - p }'
# The per-pair difference is less sensitive to load drift on a shared machine.
paste "$W/with" "$W/without" | awk '{print $1 - $2}' >"$W/diff"
read -r d_med _ < <(stats "$W/diff")
printf 'median per-pair difference: %+.2f ms\n' "$d_med"
