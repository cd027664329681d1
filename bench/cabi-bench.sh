#!/usr/bin/env bash
# cabi-bench.sh [--quick] [SPEC...] — check latency in-process (Go) and
# through the C ABI of librevocheck.so, on synthetic caches (SPEC: mozilla,
# the Mozilla-shaped cache of 1 full filter + 35 deltas over 1000 issuers,
# and sized, the size of Mozilla's data: ~6 MB full filter + 35 deltas of
# ~150 KB; default both):
#   - Go: cache.Check and engine.CheckInput per kind of input, cache.Open;
#     engine.CheckDER on a real chain of the test PKI;
#   - C: bench/report/cdriver/cabi_bench dlopens the library like an
#     adapter: cold first check in fresh processes (+ the RSS it adds), warm
#     revocheck_check_input per kind, revocheck_check_der on the real chain,
#     and instructions per check under valgrind --tool=callgrind.
# The synthetic caches are generated on first use and kept under $TMPDIR
# (core/cachedir.SyntheticCached); sized takes ~4 minutes and ~14 GB of memory the first time.
#
# Needs make all. Rows go to $BENCH_ROWS when set (bench/run-all.sh).
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init cabi-bench
QUICK=()
SPECS=()
for a in "$@"; do
	case $a in
	--quick) QUICK=(-quick) ;;
	mozilla | sized) SPECS+=("$a") ;;
	*) die "usage: bench/cabi-bench.sh [--quick] [mozilla] [sized]" ;;
	esac
done
((${#SPECS[@]})) || SPECS=(mozilla sized)
[[ -f $B/lib/librevocheck.so.0 && -f $B/include/revocheck.h ]] || die "$B/lib/librevocheck.so.0 missing; run make all"

bench_report
bench_sites
bench_der good
cc -O2 -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -I"$B/include" \
	-o "$W/cabi_bench" bench/report/cdriver/cabi_bench.c -ldl || die "cannot compile the C driver"

for spec in "${SPECS[@]}"; do
	# The synthetic filters plus the test sites' filter: the real chain is
	# covered, and checking it opens a cache of Mozilla's shape.
	combined=$("$REPORT" synth -spec "$spec" -with-sites "$CACHE_DIR" -combined "$W/$spec-combined")
	echo "== $spec: Go, in-process"
	"$REPORT" gocheck -spec "$spec" "${QUICK[@]}" -der-cache "$combined" \
		-leaf "$W/good.leaf.der" -issuer "$W/good.issuer.der" -cmd "bench/cabi-bench.sh $spec"
	echo "== $spec: C ABI"
	"$REPORT" cabi -spec "$spec" "${QUICK[@]}" -driver "$W/cabi_bench" -lib "$B/lib/librevocheck.so.0" \
		-der-cache "$combined" -leaf "$W/good.leaf.der" -issuer "$W/good.issuer.der" -cmd "bench/cabi-bench.sh $spec"
done
