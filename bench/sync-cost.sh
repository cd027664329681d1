#!/usr/bin/env bash
# sync-cost.sh [RUNS] — bytes and time of `revocheck fetch` against
# `revocheck serve` of a synthetic Mozilla-shaped mirror tree: a cold fetch
# into an empty cache (35 filters), a delta fetch after the mirror gained
# one delta (36 filters), and a no-op fetch of the unchanged mirror. Bytes
# are counted on the wire (HTTP headers included) by a TCP proxy between
# fetch and serve; times are medians of RUNS repetitions.
# Goals: cold fetch within a few % of the data, no-op fetch without filter
# bytes.
#
# Needs make all. Rows go to $BENCH_ROWS when set. Only 127.0.0.1 is used.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init sync-cost
RUNS=${1:-5}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
[[ -x $B/bin/revocheck ]] || die "$B/bin/revocheck missing; run make all"
bench_report
"$REPORT" sync -revocheck "$B/bin/revocheck" -runs "$RUNS" -cmd "bench/sync-cost.sh $RUNS"
