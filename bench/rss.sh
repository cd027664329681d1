#!/usr/bin/env bash
# rss.sh [RUNS] [SPEC...] — the memory a host process gains from revocheck:
# peak resident set (VmHWM, via /usr/bin/time's %M) of one `curl` fetch of
# the "good" test site without the OpenSSL provider, and with it on
#   - the test sites' own cache (one small filter), and
#   - the synthetic caches SPEC (default: mozilla) merged with the test
#     sites' filter, so the check opens a cache of Mozilla's shape.
# Alternating runs; medians. Goal: growth <= 10 MB. The wall time of the
# same runs is reported too: curl-overhead.sh measures the provider on the
# test sites' tiny cache, this shows what opening a Mozilla-sized cache adds.
#
# Needs make all and /usr/bin/time. Rows go to $BENCH_ROWS when set.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init rss
RUNS=${1:-11}
shift || true
SPECS=("$@")
((${#SPECS[@]})) || SPECS=(mozilla)
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
[[ -f $B/lib/revocheck-openssl.so && -f $B/lib/librevocheck.so.0 ]] || die "run make all first"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is not installed (Debian: time)"

bench_report
bench_sites
echo "# defaults only" >"$W/config.toml"
export REVOCHECK_CONFIG=$W/config.toml

conf() { # NAME CACHE_DIR: an OpenSSL config loading the provider on that cache
	cat >"$W/$1.cnf" <<CNF
.include $ROOT/openssl-provider/revocheck-openssl.cnf
[ revocheck_sect ]
module = $B/lib/revocheck-openssl.so
cache-dir = $2
CNF
}
variants=(plain sites)
labels=("curl without the provider" "curl + provider, test-site cache (1 filter)")
conf sites "$CACHE_DIR"
for spec in "${SPECS[@]}"; do
	dir=$("$REPORT" synth -spec "$spec" -with-sites "$CACHE_DIR" -combined "$W/$spec-combined")
	conf "$spec" "$dir"
	variants+=("$spec")
	labels+=("curl + provider, $spec cache + test sites ($(ls "$dir" | grep -c -E '\.(filter|delta)$') filters, $(du -sh --apparent-size "$dir" | cut -f1))")
done

# The last cache once more, the provider asking `revocheck daemon` (no Go
# runtime in curl; the library made unloadable so only the daemon answers).
export REVOCHECK_SOCKET=none # the other variants check in-process
last=${variants[-1]}
last_dir=$(sed -n 's/^cache-dir = //p' "$W/$last.cnf")
bench_daemon "$last_dir"
cat >"$W/daemon.cnf" <<CNF
.include $ROOT/openssl-provider/revocheck-openssl.cnf
[ revocheck_sect ]
module = $B/lib/revocheck-openssl.so
cache-dir = $last_dir
socket = $DAEMON_SOCK
library = $W/no-library-here.so
unavailable = deny
CNF
variants+=(daemon)
labels+=("curl + provider asking \`revocheck daemon\` (${labels[-1]#curl + provider, })")

curl_rss() { # VARIANT: one fetch, prints peak RSS in kB and wall time in µs
	local env=() t0 t1
	[[ $1 != plain ]] && env=(OPENSSL_CONF="$W/$1.cnf")
	[[ $1 == daemon ]] && env=(-u REVOCHECK_CONFIG "${env[@]}") # the daemon's configuration
	t0=$EPOCHREALTIME
	env "${env[@]}" /usr/bin/time -f %M -o "$W/time.out" \
		curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_GOOD_URL" || die "curl ($1) failed"
	t1=$EPOCHREALTIME
	echo "$(cat "$W/time.out") $((10#${t1/./} - 10#${t0/./}))"
}

# Sanity: the provider is live on every cache (revoked refused).
for v in "${variants[@]:1}"; do
	OPENSSL_CONF=$W/$v.cnf curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_REVOKED_URL" 2>/dev/null &&
		die "the provider ($v) did not refuse the revoked site"
done

for v in "${variants[@]}"; do : >"$W/rss.$v"; : >"$W/wall.$v"; done
n=${#variants[@]}
for ((i = 0; i < RUNS + 1; i++)); do
	for ((j = 0; j < n; j++)); do
		v=${variants[(i + j) % n]} # rotate the order every round
		read -r kb us < <(curl_rss "$v")
		if ((i > 0)); then # the first round warms the page cache
			echo "$kb" >>"$W/rss.$v"
			echo "$us" >>"$W/wall.$v"
		fi
	done
done
[[ -n ${RSS_DEBUG:-} ]] && for v in "${variants[@]}"; do echo "$v: $(sort -n "$W/wall.$v" | tr "\n" " ")"; done
base=$(bench_median "$W/rss.plain")
wbase=$(bench_median "$W/wall.plain")
echo "curl $(curl --version | head -1 | cut -d' ' -f2), $(openssl version | cut -d' ' -f1-2); peak RSS, median of $RUNS"
for k in "${!variants[@]}"; do
	v=${variants[$k]}
	m=$(bench_median "$W/rss.$v")
	if [[ $v == plain ]]; then
		bench_row cold "${labels[$k]}: peak RSS (VmHWM), median of $RUNS" "$(awk -v m="$m" 'BEGIN{printf "%.1f MB", m/1024}')" \
			"—" "—" "bench/rss.sh $RUNS"
		continue
	fi
	wm=$(bench_median "$W/wall.$v")
	ratio=$(awk -v w="$wm" -v b="$wbase" 'BEGIN{printf "%.3f", w/b}')
	bench_row process "${labels[$k]}: one fetch per process, median of $RUNS rotating runs" \
		"$(awk -v w="$wm" -v b="$wbase" 'BEGIN{printf "%.2f vs %.2f ms: ratio %.3f (%+.2f ms)", w/1000, b/1000, w/b, (w-b)/1000}')" \
		"≤ 1.05" "$(bench_verdict "$ratio" 1.05)" "bench/rss.sh $RUNS ${SPECS[*]}"
	growth=$(awk -v m="$m" -v b="$base" 'BEGIN{printf "%.1f", (m-b)/1024}')
	bench_row cold "${labels[$k]}: peak RSS growth over plain curl" \
		"$(awk -v m="$m" -v g="$growth" 'BEGIN{printf "+%s MB (%.1f MB)", g, m/1024}')" "≤ 10 MB" \
		"$(bench_verdict "$growth" 10)" "bench/rss.sh $RUNS ${SPECS[*]}"
done
