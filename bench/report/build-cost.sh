#!/usr/bin/env bash
# bench/report/build-cost.sh [--quick] — filter build throughput and bytes
# per revoked entry:
#   - the clubcard builder: core/clubcard BenchmarkBuild (1M keys over 1000
#     issuers, ~2% revoked);
#   - the CRL compiler: core/crlcompile TestScale (synthetic revoked lists,
#     1M entries with --quick, else 10M), and end to end `revocheck mirror
#     crl` on a signed 1M-entry CRL from bench/crlgen (parse, signature,
#     compile, write).
# Part of bench/run-all.sh; rows go to $BENCH_ROWS when set.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/lib.sh"
bench_init build-cost
SCALE=10000000
[[ ${1:-} == --quick ]] && SCALE=1000000
[[ -x $B/bin/revocheck ]] || die "$B/bin/revocheck missing; run make all"

echo "== clubcard builder (go test -bench BenchmarkBuild ./core/clubcard)"
out=$(go test -count=1 -run XXX -bench 'BenchmarkBuild$' -benchtime 3x ./core/clubcard 2>&1) || die "BenchmarkBuild failed: $out"
line=$(grep '^BenchmarkBuild' <<<"$out") || die "no BenchmarkBuild line: $out"
echo "$line"
field() { awk -v u="$1" '{for (i = 2; i <= NF; i++) if ($i == u) print $(i - 1)}' <<<"$line"; }
bench_row build "clubcard builder: $(field keys) keys, $(field revoked) revoked, 1000 issuers" \
	"$(awk -v k="$(field keys/s)" -v b="$(field bytes/revoked)" 'BEGIN{printf "%.2f M keys/s, %.2f bytes per revoked entry", k/1e6, b}')" \
	"—" "—" "go test -run XXX -bench 'BenchmarkBuild\$' -benchtime 3x ./core/clubcard"

echo "== CRL compiler, $SCALE synthetic entries (core/crlcompile TestScale)"
# TestScale also asserts its own bytes/entry limit; the figures are read
# from its log either way and a failure is reported, not fatal.
out=$(REVOCHECK_SCALE=$SCALE go test -count=1 -run 'TestScale$' -v ./core/crlcompile 2>&1) && status=pass || status=fail
grep -E 'scale_test.go' <<<"$out" || true
line=$(grep -E 'entries, [0-9]+ issuers' <<<"$out") || die "TestScale printed no figures: $out"
read -r n iss hashed written size per < <(sed -E 's/.* ([0-9]+) entries, ([0-9]+) issuers: hashed in ([^,]+), written in ([^;]+); ([0-9]+) bytes = ([0-9.]+) bytes\/entry.*/\1 \2 \3 \4 \5 \6/' <<<"$line")
note=""
[[ $status == fail ]] && note=" (TestScale itself FAILS: $(grep -E 'want' <<<"$out" | sed -E 's/^ *scale_test.go:[0-9]+: //' | head -1))"
bench_row build "CRL compiler (crlset): $n entries over $iss issuers, in memory" \
	"$written for all ($(awk -v n="$n" -v t="$written" 'BEGIN{ s=t; u=1; if (s ~ /ms$/) {u=1e-3} else if (s ~ /µs$/) {u=1e-6}; gsub(/[^0-9.]/, "", s); printf "%.1f M entries/s", n/(s*u)/1e6 }')), $per bytes per entry$note" \
	"—" "—" "REVOCHECK_SCALE=$SCALE go test -count=1 -run 'TestScale\$' -v ./core/crlcompile"

echo "== CRL compiler end to end: revocheck mirror crl on a signed 1M-entry CRL"
bench_sites
go build -o "$W/crlgen" ./bench/crlgen || die "cannot build bench/crlgen"
"$W/crlgen" -ca "$PKI_DIR/int.pem" -key "$PKI_DIR/int.key.pem" -n 1000000 -out "$W/big.crl.pem" ||
	die "crlgen failed"
crl_bytes=$(openssl crl -in "$W/big.crl.pem" -outform DER | wc -c)
t0=$EPOCHREALTIME
/usr/bin/time -f %M -o "$W/rss" "$B/bin/revocheck" mirror crl --quiet --ca "$PKI_DIR/int.pem" --out "$W/tree" "$W/big.crl.pem" ||
	die "revocheck mirror crl failed"
t1=$EPOCHREALTIME
set_bytes=$(cat "$W"/tree/crlsets/*.crlset | wc -c)
ms=$(((10#${t1/./} - 10#${t0/./}) / 1000))
echo "CRL $crl_bytes bytes DER -> crlset $set_bytes bytes in $ms ms, peak RSS $(($(cat "$W/rss") / 1024)) MB"
bench_row build "CRL compiler end to end: revocheck mirror crl, 1M-entry signed CRL ($(awk -v b="$crl_bytes" 'BEGIN{printf "%.1f MB DER", b/1e6}'))" \
	"$ms ms ($(awk -v ms="$ms" 'BEGIN{printf "%.2f M entries/s", 1e6/(ms/1000)/1e6}')), $set_bytes bytes = $(awk -v b="$set_bytes" 'BEGIN{printf "%.2f", b/1e6}') bytes per entry ($(awk -v c="$crl_bytes" -v s="$set_bytes" 'BEGIN{printf "%.1f", c/s}')× smaller than the CRL), peak RSS $(($(cat "$W/rss") / 1024)) MB" \
	"—" "—" "bench/report/build-cost.sh"
