#!/usr/bin/env bash
# run-all.sh [--quick] [--no-build] [--no-render] — the whole performance
# report in one run on this machine, then the tables of docs/BENCHMARKS.md
# regenerated (between its markers; the prose around them stays).
#
#   --quick      fewer runs everywhere (a few minutes once the synthetic
#                caches exist; the first run generates them: ~4 min and ~14 GB of memory for sized)
#   --no-build   skip `make all`
#   --no-render  measure and print, leave docs/BENCHMARKS.md alone
#
# Calls, in this order: bench/cabi-bench.sh (check latency in Go and
# through the C ABI, cold first check, RSS of the library), report cold
# (`revocheck check` in fresh processes), bench/runtime-floor.sh (the Go
# runtime's share of loading the library), bench/rss.sh (curl's RSS with and
# without the provider), bench/curl-overhead.sh, bench/wget-overhead.sh,
# bench/tstclnt-overhead.sh (whole-process overhead), bench/curl-instructions.sh
# (the same curl runs counted in instructions, under valgrind), the check
# daemon (core/checkd BenchmarkRoundTrip, bench/checkd-load.sh) and issue
# 23's process figures before and after (bench/proc-ab.sh), bench/curl-crlfile.sh
# with 100 000 and 1 000 000 entries, bench/sync-cost.sh,
# bench/report/build-cost.sh, the real-Mozilla-delta benchmark of
# core/cache, bench/check-instructions.sh and bench/check-input.sh (the
# check path in instructions, `check --input` throughput), and the upki
# comparison. A step that fails is reported in the
# table (and the exit status is 1); the others still run.
# Logs of every step: printed as they run.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init run-all
QUICK=0 BUILD=1 RENDER=1
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	--no-build) BUILD=0 ;;
	--no-render) RENDER=0 ;;
	*) die "usage: bench/run-all.sh [--quick] [--no-build] [--no-render]" ;;
	esac
done
if ((QUICK)); then
	Q=(--quick) CURL_RUNS=40 CURL_K=20 PAIRS=21 CRL_RUNS=5 SYNC_RUNS=3 COLD_RUNS=7 RSS_RUNS=5 LOAD_SECONDS=3 AB_RUNS=30 AB_ROUNDS=3
else
	Q=() CURL_RUNS=200 CURL_K=50 PAIRS=51 CRL_RUNS=15 SYNC_RUNS=7 COLD_RUNS=21 RSS_RUNS=11 LOAD_SECONDS=5 AB_RUNS=100 AB_ROUNDS=5
fi
START=$EPOCHREALTIME

if ((BUILD)); then
	make all >"$W/make.log" 2>&1 || { cat "$W/make.log"; die "make all failed"; }
fi
export BENCH_ROWS=$W/rows.tsv
: >"$BENCH_ROWS"
bench_report
export REPORT # the scripts below reuse this build
bench_sites   # for `report cold` (the scripts start their own)
FAILED=0

# step SECTION NAME CMD...: runs a step, its output to the terminal and to
# $W/NAME.log; a failure becomes a row of the table.
step() {
	local section=$1 name=$2
	shift 2
	echo
	echo "######## $name: $*"
	if ! "$@" 2>&1 | tee "$W/$name.log"; then
		FAILED=1
		bench_row "$section" "$name FAILED: $(grep -v '^\s*$' "$W/$name.log" | tail -1 | cut -c1-160)" "—" "—" "MISSES" "$*"
		return 1
	fi
}

# ---- check latency (Go, C ABI), cold first check and RSS of the library
step check cabi-bench bench/cabi-bench.sh "${Q[@]}" mozilla sized || true

# ---- the real Mozilla delta, 36 times (core/cache BenchmarkCheckRealDelta36)
real_delta() {
	local out line kind
	out=$(go test -count=1 -run XXX -bench 'CheckRealDelta36/(not_revoked|revoked)$' -benchtime 1s ./core/cache 2>&1) ||
		{ echo "$out"; return 1; }
	echo "$out" | grep '^Benchmark'
	for kind in not_revoked revoked; do
		line=$(grep -E "^BenchmarkCheckRealDelta36/$kind-" <<<"$out") || { echo "no $kind line"; return 1; }
		read -r ns cpu allocs < <(awk '{for (i = 2; i <= NF; i++) { if ($i == "ns/op") n = $(i-1); if ($i == "cpu-ns/op") c = $(i-1); if ($i == "allocs/op") a = $(i-1) } print n, c, a}' <<<"$line")
		bench_row check "Go cache.Check, 36 copies of a real Mozilla delta (969 issuers), real test-site inputs, $kind" \
			"$(awk -v n="$ns" -v c="$cpu" -v a="$allocs" 'BEGIN{printf "%d ns (cpu %d ns), %d allocs", n, c, a}')" \
			"≤ 1 µs, 0 allocs" "$(awk -v n="$ns" -v a="$allocs" 'BEGIN{print (n <= 1000 && a == 0) ? "meets" : "MISSES"}')" \
			"go test -run XXX -bench CheckRealDelta36 ./core/cache"
	done
}
step check real-delta real_delta || true

# ---- BEGIN h-perfcore: the check path in instructions, and check --input throughput
if command -v valgrind >/dev/null; then
	step check check-instructions bench/check-instructions.sh mozilla sized || true
else
	bench_row check "instructions per check (callgrind): SKIPPED, valgrind not installed" "—" "—" "—" "bench/check-instructions.sh"
fi
check_input() {
	local log=$W/check-input.out lines=$1 runs=$2
	bench/check-input.sh "$lines" "$runs" | tee "$log" || return 1
	# "covered: N lines in S s wall: R M lines/s; cpu C s: U us/line"
	awk -v lines="$lines" -v runs="$runs" '
		/^(covered|mix): / { k = $1; sub(/:$/, "", k); r[k] = r[k] " " $8; u[k] = u[k] " " $(NF-1); n[k]++ }
		END {
			for (k in n) {
				split(r[k], rs, " "); split(u[k], us, " "); best = 0; minu = 1e9
				for (i in rs) if (rs[i] + 0 > best) best = rs[i] + 0
				for (i in us) if (us[i] + 0 < minu) minu = us[i] + 0
				printf "check\trevocheck check --input, %s lines (filter build --synthetic cache, 36 filters), whole process, best of %d runs of %d lines\t%.2f M lines/s (runs:%s M lines/s); CPU %.2f µs/line at best\t≥ 1 M lines/s\t%s\tbench/check-input.sh %d %d\n", k, n[k], lines, best, r[k], minu, (best >= 1 ? "meets" : "MISSES"), lines, runs
			}
		}' "$log" | tee -a "$BENCH_ROWS"
	grep -q "^check.revocheck check --input" "$BENCH_ROWS" || { echo "could not parse check-input.sh output"; return 1; }
}
if ((QUICK)); then
	step check check-input check_input 1000000 2 || true
else
	step check check-input check_input 4000000 3 || true
fi
# ---- END h-perfcore

# ---- cold open: `revocheck check` in fresh processes
cold() {
	local m x
	m=$("$REPORT" synth -spec mozilla -with-sites "$CACHE_DIR" -combined "$W/mozilla-combined")
	x=$("$REPORT" synth -spec sized -with-sites "$CACHE_DIR" -combined "$W/sized-combined")
	"$REPORT" cold -revocheck "$B/bin/revocheck" -chain "$SITE_GOOD_CHAIN" -runs "$COLD_RUNS" \
		-cache "test-site cache (1 filter)=$CACHE_DIR" -cache "mozilla cache + test sites (37 filters)=$m" \
		-cache "sized cache + test sites (37 filters)=$x" \
		-cmd "bench/run-all.sh (report cold -chain good.chain.pem -cache ...)"
}
step cold cold cold || true
step cold rss bench/rss.sh "$RSS_RUNS" mozilla sized || true
step cold runtime-floor bench/runtime-floor.sh "$COLD_RUNS" || true

# ---- whole-process overhead of real clients
curl_overhead() {
	local log=$W/curl-overhead.out
	bench/curl-overhead.sh "$CURL_RUNS" "$CURL_K" | tee "$log" || return 1
	# Two blocks: one fetch per process, then K handshakes per process.
	awk -v runs="$CURL_RUNS" -v k="$CURL_K" '
		/without provider/ { wo[++n1] = $4 }
		/with provider/ && !/without/ { w[++n2] = $4 }
		/^  via daemon/ { dm[++n4] = $4 }
		/ratio \(median with/ { r[++n3] = $7; d[n3] = $9 }
		/ratio daemon/ { rd[++n5] = $9; dd[n5] = $11 }
		/page faults: median/ { fw = $4; fwo = $6; fd = $7; gsub(/[();]/, "", fd); fus = $11; fms = $18 }
		/page faults via daemon/ { fdm = $6; fdd = $7; gsub(/[()]/, "", fdd) }
		END {
			printf "process\tcurl (OpenSSL provider), one fetch per process, median of %d alternating runs\t%.2f vs %.2f ms: ratio %.3f (%+.2f ms)\t≤ 1.15 (issue 23)\t%s\tbench/curl-overhead.sh %d %d\n", runs, w[1], wo[1], r[1], d[1], (r[1] <= 1.15 ? "meets" : "MISSES"), runs, k
			if (fw != "") printf "process\tcurl (OpenSSL provider), one fetch: page faults with vs without (the Go runtime and library pages a process touches)\t%s vs %s %s; at %s µs per fault on this machine that is %s ms of the difference\t—\t—\tbench/curl-overhead.sh %d %d\n", fw, fwo, fd, fus, fms, runs, k
			printf "process\tcurl (OpenSSL provider), %d fresh handshakes per process, time per handshake\t%.3f vs %.3f ms: ratio %.3f (%+.3f ms)\t≤ 1.05\t%s\tbench/curl-overhead.sh %d %d\n", k, w[2], wo[2], r[2], d[2], (r[2] <= 1.05 ? "meets" : "MISSES"), runs, k
			if (n5 >= 1) printf "process\tcurl (OpenSSL provider asking `revocheck daemon`, no Go runtime in curl), one fetch per process\t%.2f vs %.2f ms: ratio %.3f (%+.2f ms); page faults %s vs %s (%s)\t≤ 1.02 (issue 23)\t%s\tbench/curl-overhead.sh %d %d\n", dm[1], wo[1], rd[1], dd[1], fdm, fwo, fdd, (rd[1] <= 1.02 ? "meets" : "MISSES"), runs, k
			if (n5 >= 2) printf "process\tcurl (OpenSSL provider asking `revocheck daemon`), %d fresh handshakes per process, time per handshake\t%.3f vs %.3f ms: ratio %.3f (%+.3f ms)\t≤ 1.05\t%s\tbench/curl-overhead.sh %d %d\n", k, dm[2], wo[2], rd[2], dd[2], (rd[2] <= 1.05 ? "meets" : "MISSES"), runs, k
		}' "$log" | tee -a "$BENCH_ROWS"
	grep -q "^process.curl" "$BENCH_ROWS" || { echo "could not parse curl-overhead.sh output"; return 1; }
}
step process curl-overhead curl_overhead || true

wget_overhead() {
	local log=$W/wget-overhead.out
	bench/wget-overhead.sh "$PAIRS" | tee "$log" || return 1
	awk -v runs="$PAIRS" '
		/^without hook/ { wo = $3 }
		/^with hook/ { w = $3 }
		/^via daemon/ { vd = $3 }
		/^median ratio with/ { r = $4 }
		/^median ratio daemon/ { rd = $4 }
		/^median per-pair/ { d = $4 }
		END {
			if (r == "") exit 1
			printf "process\twget (GnuTLS hook, LD_PRELOAD), one fetch per process, median of %d alternating pairs\t%.2f vs %.2f ms: ratio %.3f (pair diff %s ms)\t≤ 1.05\t%s\tbench/wget-overhead.sh %d\n", runs, w, wo, r, d, (r <= 1.05 ? "meets" : "MISSES"), runs
			if (rd != "") printf "process\twget (GnuTLS hook asking `revocheck daemon`, no Go runtime in wget), one fetch per process, median of %d alternating runs\t%.2f vs %.2f ms: ratio %.3f\t≤ 1.05\t%s\tbench/wget-overhead.sh %d\n", runs, vd, wo, rd, (rd <= 1.05 ? "meets" : "MISSES"), runs
		}' "$log" | tee -a "$BENCH_ROWS"
}
step process wget-overhead wget_overhead || true
step process tstclnt-overhead bench/tstclnt-overhead.sh "$PAIRS" || true
if command -v valgrind >/dev/null; then
	step process curl-instructions bench/curl-instructions.sh 20 || true
else
	bench_row process "curl instructions (callgrind): SKIPPED, valgrind not installed" "—" "—" "—" "bench/curl-instructions.sh 20"
fi

# ==== BEGIN issue 23, process level (h-perfproc): the check daemon and the
# per-process cost of curl with the provider, before (main at 9e73b64) and
# after side by side. Rows: section "daemon", and "process" for curl.
# one check through the check daemon's socket (core/checkd BenchmarkRoundTrip)
daemon_rtt() {
	local out
	out=$(go test -count=1 -run XXX -bench RoundTrip -benchtime 1s ./core/checkd 2>&1) || { echo "$out"; return 1; }
	echo "$out" | grep '^Benchmark'
	awk '/^BenchmarkRoundTrip\// {
		split($1, n, "/"); sub(/-[0-9]+$/, "", n[2]); v[n[2]] = $3 }
		END {
			if (v["kept-connection"] == "") exit 1
			printf "daemon\tOne check through `revocheck daemon` from a Go client (test-site cache): kept connection (what an adapter does) / a connection per check / the same check in-process\t%.1f µs / %.1f µs / %.2f µs\t—\t—\tgo test -run XXX -bench RoundTrip ./core/checkd\n", v["kept-connection"] / 1e3, v["connect-per-check"] / 1e3, v["in-process"] / 1e3
		}' <<<"$out" | tee -a "$BENCH_ROWS"
}
step daemon daemon-rtt daemon_rtt || true

# the real protocol over the real socket from a C client: round trip, the
# floor of a C server that does no work, 64 concurrent connections
step daemon checkd-load bench/checkd-load.sh "$LOAD_SECONDS" 64 2 || true
# before/after, alternating: daemon round trip and load, curl in-process
# and via the daemon (one fetch, K handshakes)
step process proc-ab bench/proc-ab.sh "$AB_RUNS" "$CURL_K" "$AB_ROUNDS" || true
# ==== END issue 23, process level (h-perfproc)

# ---- curl --crlfile with big CRLs versus the provider
crlfile() {
	local n=$1 log=$W/crlfile-$1.out
	bench/curl-crlfile.sh "$CRL_RUNS" "$n" | tee "$log" || return 1
	awk -v n="$n" -v runs="$CRL_RUNS" '
		/^CRL:/ { size = $4 }
		/^plain curl/ { p = $4; prss = $(NF-1) }
		/^curl --crlfile/ { c = $4; crss = $(NF-1) }
		/^curl \+ provider/ { v = $5; vrss = $(NF-1) }
		/^curl \+ daemon/ { dv = $5; dvrss = $(NF-1) }
		END {
			if (v == "") exit 1
			whole = c / v; marginal = (c - p) / (v - p)
			goal = (n >= 1000000) ? "≥ 100× faster" : "—"
			ok = (n >= 1000000) ? (whole >= 100 ? "meets" : "MISSES") : "—"
			printf "crlfile\tcurl --crlfile, CRL of %d entries (%s PEM) vs curl + provider, median of %d runs\t%.0f vs %.1f ms per process: %.0f× faster (revocation cost alone, minus plain curl %.1f ms: %.0f×); peak RSS %s vs %s MiB\t%s\t%s\tbench/curl-crlfile.sh %d %d\n", n, size, runs, c, v, whole, p, marginal, crss, vrss, goal, ok, runs, n
			if (dv != "") printf "crlfile\tcurl --crlfile, CRL of %d entries vs curl + provider asking `revocheck daemon`, median of %d runs\t%.0f vs %.1f ms per process: %.0f× faster (revocation cost alone: %s); peak RSS %s vs %s MiB\t%s\t%s\tbench/curl-crlfile.sh %d %d\n", n, runs, c, dv, c / dv, (dv > p) ? sprintf("%.0f×", (c - p) / (dv - p)) : "the daemon run is within noise of plain curl", crss, dvrss, goal, (n >= 1000000) ? (c / dv >= 100 ? "meets" : "MISSES") : "—", runs, n
		}' "$log" | tee -a "$BENCH_ROWS"
}
step crlfile crlfile-100k crlfile 100000 || true
step crlfile crlfile-1M crlfile 1000000 || true

# ---- sync, build
step sync sync-cost bench/sync-cost.sh "$SYNC_RUNS" || true
step build build-cost bench/report/build-cost.sh "${Q[@]}" || true

# ---- upki: Rust's figures cannot be measured here (no crates.io, no
# GitHub checkout on this machine), so the rows give the figures measured by
# the session that filed issue 23 (clubcard-crlite 0.6.0 and rustls/upki
# 1.0.0-beta.3 built from source, check paths unmodified, same data,
# alternating runs against revocheck 1af4fb6), marked as theirs, beside
# revocheck's own figure from this run.
upki() {
	local ours
	# revocheck: the C ABI, Mozilla-shaped cache, a not-revoked certificate
	# (the most expensive kind: every covering filter is consulted).
	ours=$(awk -F'\t' '$1 == "check" && $2 ~ /^C ABI revocheck_check_input, mozilla/ && $2 ~ /not_revoked$/ { split($3, f, " "); v = f[1]; u = f[2]
		print (u == "ms") ? v * 1e6 : (u == "µs") ? v * 1e3 : v; exit }' "$BENCH_ROWS")
	local src="issue 23 (measured by its author, not by this run)"
	bench_row upki "one query, one filter: Rust clubcard-crlite vs revocheck — $src" \
		"451–799 ns vs 340–552 ns: Rust 1.35–1.6× slower" "—" "—" "issue 23"
	bench_row upki "one check over 36 filters, filters already parsed (upki's Index::check logic) — $src" \
		"12–21 µs vs 1.6–2.7 µs: ~8×" "—" "—" "issue 23"
	bench_row upki "upki as shipped (re-reads and re-parses every filter per check), 5.9 MB cache — $src" \
		"15–22 ms vs ~1.5 µs warm, 10–14 µs first use: ~10⁴×" "—" "—" "issue 23"
	bench_row upki "one whole process, 5.9 MB cache, not-revoked chain — $src" \
		"upki 15 ms CPU vs revocheck 4 ms CPU (0.24×)" "—" "—" "issue 23"
	bench_row upki "one whole process, revoked chain (upki's logic stops at the first filter) — $src" \
		"revocheck 1.73× upki's CPU: Go start-up dominates" "—" "MISSES" "issue 23"
	if [[ -n $ours ]]; then
		bench_row upki "revocheck per check in this run (C ABI, mozilla cache, not_revoked) vs upki as shipped, 15 ms (issue 23)" \
			"$(awk -v o="$ours" 'BEGIN{printf "%.1f µs: ≈ %.0f× faster", o/1e3, 15e6/o}')" \
			"≈ 1000× (≤ 1 µs)" "$(awk -v o="$ours" 'BEGIN{print (o <= 1000) ? "meets" : "MISSES"}')" "bench/cabi-bench.sh mozilla"
	fi
}
step upki upki upki || true

echo
echo "######## run-all: done in $(awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b - a}') s"
cp "$BENCH_ROWS" "${TMPDIR:-/tmp}/revocheck-bench-rows.tsv"
echo "rows: ${TMPDIR:-/tmp}/revocheck-bench-rows.tsv"
if ((RENDER)); then
	QF=()
	((QUICK)) && QF=(-quick)
	"$REPORT" render -rows "$BENCH_ROWS" -doc docs/BENCHMARKS.md "${QF[@]}"
fi
exit "$FAILED"
