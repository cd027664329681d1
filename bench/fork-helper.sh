#!/usr/bin/env bash
# fork-helper.sh [N] — what one verification costs in a forked child with no
# check daemon, where every check runs a `revocheck check --request` helper
# process (adapters-common/rc_helper.c), against the same verification
# in-process in the parent. bench/report/cdriver/fork_bench.c verifies the
# test sites' chains (2 checks each: end entity and intermediate) N times
# (default 50) in each, through the OpenSSL provider.
#
# Needs make all. Rows go to $BENCH_ROWS when set (bench/run-all.sh).
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init fork-helper
N=${1:-50}
[[ -f $B/lib/revocheck-openssl.so && -x $B/bin/revocheck ]] || die "run make all first"
bench_sites
cc -O2 -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$W/fork_bench" bench/report/cdriver/fork_bench.c -lcrypto ||
	die "cannot compile the C driver"
cat >"$W/openssl.cnf" <<CNF
.include $ROOT/openssl-provider/revocheck-openssl.cnf
[ revocheck_sect ]
module = $B/lib/revocheck-openssl.so
cache-dir = $CACHE_DIR
socket = none
CNF
for site in good revoked; do
	chain_var=SITE_${site^^}_CHAIN
	out=$("$W/fork_bench" "$W/openssl.cnf" "$ROOT_PEM" "${!chain_var}" "$N")
	echo "  $site: $out"
	parent=$(sed -n 's/.*parent_us=\([0-9.]*\).*/\1/p' <<<"$out")
	child=$(sed -n 's/.*child_us=\([0-9.]*\).*/\1/p' <<<"$out")
	bench_row fork "verify ($site chain, 2 checks), in-process, median of $N" "$parent µs" "-" "-" "bench/fork-helper.sh $N"
	bench_row fork "verify ($site chain, 2 checks), forked child: 2 helper spawns, median of $N" \
		"$child µs" "≤ 2 s per check (bounded)" "$(bench_verdict "$child" 4000000)" "bench/fork-helper.sh $N"
done
