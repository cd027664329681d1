#!/usr/bin/env bash
# Whole-process cost of the GnuTLS verify hook: the median wall time of
#   wget https://127.0.0.1:PORT/   (the "good" test site: covered, not revoked)
# with LD_PRELOAD=build/lib/librevocheck-gnutls.so versus without, in
# alternating runs (the order flips every pair, so drift and caching hit both
# sides alike). Each hooked run pays everything a real one does: dlopen of
# librevocheck.so, Go runtime start, config and cache open, two checks.
#
#   bench/wget-overhead.sh [RUNS]        RUNS pairs, default 51
#
# Needs make all (build/lib) and Go (to build the test sites if
# build/bin/revocheck-testsites is absent). Only 127.0.0.1 is used.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
B=${REVOCHECK_BUILD:-$PWD/build}
RUNS=${1:-51}
HOOK=$B/lib/librevocheck-gnutls.so

die() { echo "wget-overhead: $*" >&2; exit 1; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
[[ -f $HOOK ]] || die "$HOOK missing (run make all)"
[[ -f $B/lib/librevocheck.so.0 ]] || die "$B/lib/librevocheck.so.0 missing (run make go-lib)"
command -v wget >/dev/null || die "wget is not installed"

D=$(mktemp -d /tmp/revocheck-bench.XXXXXX)
SITES_PID=
cleanup() {
	[[ -n $SITES_PID ]] && kill "$SITES_PID" 2>/dev/null && wait "$SITES_PID" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT

SITES=$B/bin/revocheck-testsites
if [[ ! -x $SITES ]]; then
	SITES=$D/revocheck-testsites
	go build -o "$SITES" ./integration/cmd/testsites || die "cannot build the test sites"
fi
"$SITES" --dir "$D/sites" >/dev/null 2>&1 &
SITES_PID=$!
for _ in $(seq 300); do [[ -f $D/sites/sites.env ]] && break; sleep 0.1; done
[[ -f $D/sites/sites.env ]] || die "the test sites did not start"
# shellcheck disable=SC1091
source "$D/sites/sites.env"

echo "# defaults only" >"$D/config.toml"
export REVOCHECK_CONFIG=$D/config.toml REVOCHECK_CACHE_DIR=$CACHE_DIR
WGET=(wget --no-config --no-hsts -q --tries=1 --timeout=20 --ca-certificate="$ROOT_PEM" -O /dev/null)

# Sanity: the hook is live (revoked refused) and the good site passes both ways.
LD_PRELOAD=$HOOK "${WGET[@]}" "$SITE_REVOKED_URL" 2>/dev/null && die "the hook did not refuse the revoked site"
LD_PRELOAD=$HOOK "${WGET[@]}" "$SITE_GOOD_URL" || die "the good site failed with the hook"
"${WGET[@]}" "$SITE_GOOD_URL" || die "the good site failed without the hook"

# run_us with|without: one wget, prints its wall time in microseconds.
run_us() {
	local t0 t1
	if [[ $1 == with ]]; then
		t0=$EPOCHREALTIME
		LD_PRELOAD=$HOOK "${WGET[@]}" "$SITE_GOOD_URL" || die "hooked run failed"
		t1=$EPOCHREALTIME
	else
		t0=$EPOCHREALTIME
		"${WGET[@]}" "$SITE_GOOD_URL" || die "plain run failed"
		t1=$EPOCHREALTIME
	fi
	echo $((10#${t1/./} - 10#${t0/./}))
}

for _ in 1 2 3; do run_us with >/dev/null; run_us without >/dev/null; done # warm-up
: >"$D/with"; : >"$D/without"
for ((i = 0; i < RUNS; i++)); do
	if ((i % 2 == 0)); then
		run_us with >>"$D/with"; run_us without >>"$D/without"
	else
		run_us without >>"$D/without"; run_us with >>"$D/with"
	fi
done

# stats FILE: "median min max" in ms.
stats() {
	sort -n "$1" | awk '{v[NR] = $1} END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f %.2f %.2f\n", m / 1000, v[1] / 1000, v[NR] / 1000 }'
}
read -r w_med w_min w_max < <(stats "$D/with")
read -r p_med p_min p_max < <(stats "$D/without")
printf 'wget %s against %s, %d alternating pairs (%s)\n' "$(wget --version | head -1 | awk '{print $3}')" \
	"$SITE_GOOD_URL" "$RUNS" "$(nproc) CPUs, $(uname -r)"
printf '%-16s %10s %10s %10s\n' "" "median ms" "min ms" "max ms"
printf '%-16s %10s %10s %10s\n' "without hook" "$p_med" "$p_min" "$p_max"
printf '%-16s %10s %10s %10s\n' "with hook" "$w_med" "$w_min" "$w_max"
awk -v w="$w_med" -v p="$p_med" 'BEGIN { printf "median ratio with/without: %.3f (%+.2f ms)\n", w / p, w - p }'
# The per-pair difference is less sensitive to load drift on a shared machine.
paste "$D/with" "$D/without" | awk '{print $1 - $2}' >"$D/diff"
read -r d_med _ < <(stats "$D/diff")
printf 'median per-pair difference: %+.2f ms\n' "$d_med"
