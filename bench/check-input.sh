#!/usr/bin/env bash
# check-input.sh [LINES] [RUNS] — whole-process throughput of
# `revocheck check --input` (raw-key query lines, one outcome per line)
# against a cache from `revocheck filter build --synthetic` (its defaults:
# 1000 issuers, a full filter + 35 deltas, 2.1 MB). Two inputs of LINES
# lines (default 4M):
#   covered — every line an enrolled issuer whose SCTs every one of the 36
#             filters covers, with a fresh random serial: the common case of
#             an audit of live certificates, and the most expensive answer
#             (a walk of all 36 filters);
#   mix     — 90 % covered as above, 4 % revoked, 3 % not covered (SCTs
#             newer than the data), 3 % not enrolled, from the build's sample.
# Prints lines/s of each run (wall time of the whole process, output to
# /dev/null) and its CPU time per line (user + sys: the steadier figure on
# a shared machine), after checking on the sample that every answer is the
# expected one.
#
# Needs $B/bin/revocheck (make all) or REVOCHECK=path. Writes only in $W.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init check-input
LINES=${1:-4000000}
RUNS=${2:-3}
[[ $LINES =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]] || die "LINES and RUNS must be positive numbers"
RC=${REVOCHECK:-$B/bin/revocheck}
[[ -x $RC ]] || die "$RC missing; run make all or set REVOCHECK"

"$RC" filter build --synthetic --out "$W/cache" --queries "$W/sample.queries" >/dev/null
# The sample's own answers first: a fast wrong answer is no result.
"$RC" check --cache-dir "$W/cache" --set max-age=0 --input "$W/sample.queries" >"$W/sample.out"
paste -d' ' <(awk '{print $4}' "$W/sample.queries") "$W/sample.out" | awk '$1 != $2 {bad++} END {exit bad > 0}' ||
	die "check --input disagrees with the synthetic sample"

gen() { # gen MIX: LINES lines on stdout
	awk -v n="$LINES" -v mix="$1" -v seed="$RANDOM" '
		{ k[$4] = k[$4] + 1; q[$4, k[$4]] = $1 " " $2 " " $3 }
		END {
			srand(seed)
			for (i = 0; i < n; i++) {
				r = rand(); kind = "not_revoked"
				if (mix) {
					if (r < 0.04) kind = "revoked"
					else if (r < 0.07) kind = "not_covered"
					else if (r < 0.10) kind = "not_enrolled"
				}
				split(q[kind, 1 + int(rand() * k[kind])], f, " ")
				if (kind == "not_revoked")
					f[2] = sprintf("%02x%06x%08x%08x%08x", 1 + int(rand() * 127), int(rand() * 16777216),
						int(rand() * 4294967296), int(rand() * 4294967296), int(rand() * 4294967296))
				print f[1], f[2], f[3]
			}
		}' "$W/sample.queries"
}
gen 0 >"$W/covered.txt"
gen 1 >"$W/mix.txt"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the runs"
for input in covered mix; do
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -o "$W/time" -f '%e %U %S' "$RC" check --cache-dir "$W/cache" --set max-age=0 \
			--input "$W/$input.txt" >/dev/null || die "check --input failed"
		read -r wall user sys <"$W/time"
		awk -v n="$LINES" -v w="$wall" -v u="$user" -v s="$sys" -v name="$input" 'BEGIN {
			printf "%s: %d lines in %.2f s wall: %.2f M lines/s; cpu %.2f s: %.2f us/line\n",
				name, n, w, n / w / 1e6, u + s, (u + s) / n * 1e6 }'
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
