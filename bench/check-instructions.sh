#!/usr/bin/env bash
# check-instructions.sh [SPEC...] — the noise-free cost of the in-process
# check path, in instructions (valgrind --tool=callgrind), where wall time
# on the shared VM moves by ±40 % between runs of the same binary:
#   - cache.Check per kind of input on the synthetic caches SPEC (mozilla =
#     MozillaShaped, sized = MozillaSized; default both): the difference
#     between runs of the core/cache benchmark with 30 000 and 10 000
#     checks, so start-up and the cache's generation cancel out;
#   - `revocheck check --input`, covered lines (bench/check-input.sh's
#     "covered" input): the difference between 40 000 and 20 000 lines.
# Go runs with GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off and GOMAXPROCS=1.
# callgrind does not emulate SHA-NI, so the SHA-256 key counts ~2 000
# instructions where the CPU spends a few hundred.
#
# Needs valgrind and Go; `revocheck check --input` needs make all (or
# REVOCHECK=path). Rows go to $BENCH_ROWS when set (bench/run-all.sh).
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init check-instructions
SPECS=("$@")
((${#SPECS[@]})) || SPECS=(mozilla sized)
command -v valgrind >/dev/null || die "valgrind is not installed (Debian: valgrind)"
RC=${REVOCHECK:-$B/bin/revocheck}
[[ -x $RC ]] || die "$RC missing; run make all or set REVOCHECK"

# callgrind_total OUT CMD...: total instructions of CMD.
callgrind_total() {
	local out=$1
	shift
	GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off GOMAXPROCS=1 valgrind --tool=callgrind \
		--callgrind-out-file="$out" "$@" >/dev/null 2>"$out.err" || { cat "$out.err"; return 1; }
	awk '/^(summary|totals):/ {print $2; exit}' "$out"
}

go test -c -o "$W/cache.test" ./core/cache
for spec in "${SPECS[@]}"; do
	case $spec in
	mozilla) bench=CheckMozillaShaped label="mozilla cache (36 filters, 2.0 MB)" ;;
	sized) bench=CheckMozillaSized label="sized cache (36 filters, 11.3 MB)" ;;
	*) die "unknown spec $spec (mozilla, sized)" ;;
	esac
	# The first run generates the synthetic cache if need be (not counted).
	(cd core/cache && "$W/cache.test" -test.run '^$' -test.bench "$bench/not_covered\$" -test.benchtime 1x -test.timeout 60m >/dev/null)
	for kind in not_revoked revoked not_enrolled not_covered; do
		a=$(cd core/cache && callgrind_total "$W/cg.a" "$W/cache.test" -test.run '^$' -test.bench "$bench/$kind\$" -test.benchtime 10000x)
		b=$(cd core/cache && callgrind_total "$W/cg.b" "$W/cache.test" -test.run '^$' -test.bench "$bench/$kind\$" -test.benchtime 30000x)
		bench_row check "Go cache.Check, $label, $kind: instructions per check (callgrind; generic SHA-256)" \
			"$(((b - a) / 20000)) instructions" "—" "—" "bench/check-instructions.sh $spec"
	done
done

# check --input: the covered lines of bench/check-input.sh.
"$RC" filter build --synthetic --out "$W/cache" --queries "$W/sample.queries" >/dev/null
gen() { # gen N SEED: N covered lines (fresh random serials)
	awk -v n="$1" -v seed="$2" '$4 == "not_revoked" { q[++k] = $1 " " $3 }
		END { srand(seed)
			for (i = 0; i < n; i++) {
				split(q[1 + int(rand() * k)], f, " ")
				printf "%s %02x%06x%08x%08x%08x %s\n", f[1], 1 + int(rand() * 127), int(rand() * 16777216),
					int(rand() * 4294967296), int(rand() * 4294967296), int(rand() * 4294967296), f[2]
			} }' "$W/sample.queries"
}
gen 40000 7 >"$W/40k.txt"
head -20000 "$W/40k.txt" >"$W/20k.txt"
a=$(callgrind_total "$W/cg.c" "$RC" check --cache-dir "$W/cache" --set max-age=0 --input "$W/20k.txt")
b=$(callgrind_total "$W/cg.d" "$RC" check --cache-dir "$W/cache" --set max-age=0 --input "$W/40k.txt")
bench_row check "revocheck check --input, covered lines (filter build --synthetic cache, 36 filters): instructions per line (callgrind; generic SHA-256; one worker)" \
	"$(((b - a) / 20000)) instructions" "—" "—" "bench/check-instructions.sh"
