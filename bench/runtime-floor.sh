#!/usr/bin/env bash
# runtime-floor.sh [RUNS] — how much of what librevocheck.so costs a host
# process on load is the Go runtime itself: fresh processes (alternating)
# dlopen either librevocheck.so.0 or an empty Go c-shared library with the
# same exported names and no code behind them, call into it once (the call
# waits for the Go runtime to start) and call revocheck_open. Wall time,
# page faults and threads of each step; medians of RUNS processes each.
# The empty library is the floor any Go core pays, whatever it does.
#
# Needs make all and a C compiler. Rows go to $BENCH_ROWS when set.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init runtime-floor
RUNS=${1:-21}
[[ -f $B/lib/librevocheck.so.0 ]] || die "$B/lib/librevocheck.so.0 missing; run make all"

cc -O2 -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -o "$W/load_cost" \
	bench/report/cdriver/load_cost.c -ldl || die "cannot compile the C driver"
mkdir -p "$W/empty"
cat >"$W/empty/go.mod" <<'MOD'
module emptylib

go 1.26
MOD
cat >"$W/empty/lib.go" <<'GO'
// An empty Go c-shared library: revocheck's exported names, no code.
package main

import "C"

//export revocheck_version
func revocheck_version() *C.char { return nil }

//export revocheck_open
func revocheck_open(path, overrides *C.char, out *C.longlong) C.int { return 0 }

func main() {}
GO
(cd "$W/empty" && go build -trimpath -buildmode=c-shared -o "$W/libempty.so" .) || die "cannot build the empty Go library"

# A throwaway empty cache: revocheck_open does not open it (that happens on
# the first check), so its content does not matter here.
mkdir -p "$W/cache"
overrides="cache-dir=$W/cache;max-age=0"
: >"$W/rev.txt"
: >"$W/empty.txt"
for i in $(seq "$RUNS"); do
	if ((i % 2)); then order=(rev empty); else order=(empty rev); fi
	for v in "${order[@]}"; do
		lib=$B/lib/librevocheck.so.0
		[[ $v == empty ]] && lib=$W/libempty.so
		"$W/load_cost" "$lib" "$overrides" >>"$W/$v.txt" || die "load_cost $v failed"
	done
done

# field FILE NAME: the median of NAME=value over FILE's lines.
field() {
	sed -n "s/.* $2=\([0-9.-]*\).*/\1/p" "$1" >"$W/f.txt"
	bench_median "$W/f.txt"
}
for v in rev empty; do
	declare "${v}_dl=$(field "$W/$v.txt" dlopen_ns)" "${v}_dlf=$(field "$W/$v.txt" dlopen_faults)"
	declare "${v}_first=$(field "$W/$v.txt" first_ns)" "${v}_firstf=$(field "$W/$v.txt" first_faults)"
	declare "${v}_open=$(field "$W/$v.txt" open_ns)" "${v}_openf=$(field "$W/$v.txt" open_faults)"
	declare "${v}_thr=$(field "$W/$v.txt" threads)"
done
# shellcheck disable=SC2154 # declared above
{
	ms() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1e6 }'; }
	empty_total=$(awk -v a="$empty_dl" -v b="$empty_first" 'BEGIN { print a + b }')
	rev_total=$(awk -v a="$rev_dl" -v b="$rev_first" -v c="$rev_open" 'BEGIN { print a + b + c }')
	share=$(awk -v e="$empty_total" -v r="$rev_total" 'BEGIN { printf "%.0f", 100 * e / r }')
	echo "load cost, median of $RUNS fresh processes each, alternating:"
	bench_row cold "Go runtime floor: an empty Go c-shared library (no code), dlopen + first call, median of $RUNS processes" \
		"$(ms "$empty_total") ms (dlopen $(ms "$empty_dl") ms, $empty_dlf faults; first call $(ms "$empty_first") ms, $empty_firstf faults; $empty_thr threads)" \
		"—" "—" "bench/runtime-floor.sh $RUNS"
	bench_row cold "librevocheck.so.0: dlopen + first call + revocheck_open (config, CRL sets), median of $RUNS processes" \
		"$(ms "$rev_total") ms (dlopen $(ms "$rev_dl") ms, $rev_dlf faults; first call $(ms "$rev_first") ms, $rev_firstf faults; open $(ms "$rev_open") ms, $rev_openf faults; $rev_thr threads): the empty Go library is ${share} % of it" \
		"—" "—" "bench/runtime-floor.sh $RUNS"
}
