# bench/report/lib.sh — shared by the bench/*.sh scripts of the report
# (sourced, not run). Provides:
#   bench_init NAME     cd to the repo, set ROOT, B (build dir), W (a
#                       throwaway work dir removed at exit), die()
#   bench_report        build bench/report into $W/report (once), set REPORT
#   bench_sites         start the test PKI's HTTPS sites on 127.0.0.1 and
#                       source their sites.env (ROOT_PEM, CACHE_DIR, SITE_*)
#   bench_der NAME      write $W/NAME.leaf.der and $W/NAME.issuer.der from
#                       the site's chain
#   bench_row SECTION WHAT FIGURE GOAL VERDICT COMMAND
#                       print a row and append it to $BENCH_ROWS (if set)
#   bench_median FILE   median of the numbers in FILE, one per line
#   bench_cnf FILE BUILD KEY=VALUE...
#                       an openssl.cnf: the shipped snippet, the provider
#                       module of build dir BUILD, then the settings given
# Only 127.0.0.1 is used; nothing outside $W is written (except the
# synthetic caches core/cachedir keeps under $TMPDIR for reuse).

bench_init() {
	BENCH_NAME=$1
	set -euo pipefail
	export LC_ALL=C
	cd "$(dirname "${BASH_SOURCE[0]}")/../.."
	ROOT=$PWD
	B=${REVOCHECK_BUILD:-$ROOT/build}
	W=$(mktemp -d /tmp/revocheck-bench.XXXXXX)
	BENCH_PIDS=()
	trap bench_cleanup EXIT
}

die() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}

bench_cleanup() {
	local p
	for p in "${BENCH_PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$W"
}

bench_report() {
	[[ -n ${REPORT:-} && -x ${REPORT:-} ]] && return
	REPORT=$W/report
	go build -o "$REPORT" ./bench/report || die "cannot build bench/report"
}

bench_sites() {
	local sites=$B/bin/revocheck-testsites
	if [[ ! -x $sites ]]; then
		sites=$W/revocheck-testsites
		go build -o "$sites" ./integration/cmd/testsites || die "cannot build the test sites"
	fi
	"$sites" --dir "$W/sites" >/dev/null 2>&1 &
	BENCH_PIDS+=($!)
	for _ in $(seq 300); do [[ -f $W/sites/sites.env ]] && break; sleep 0.1; done
	[[ -f $W/sites/sites.env ]] || die "the test sites did not start"
	# shellcheck disable=SC1091
	source "$W/sites/sites.env"
}

bench_der() {
	local name=$1 chain
	chain=$PKI_DIR/$name.chain.pem
	openssl x509 -in "$chain" -outform DER -out "$W/$name.leaf.der"
	# The second certificate of the chain is the issuer.
	awk '/BEGIN CERT/{n++} n==2' "$chain" | openssl x509 -outform DER -out "$W/$name.issuer.der"
}

# bench_daemon CACHE_DIR: starts `revocheck daemon` on $W/run/check.sock
# (a root-owned 0755 directory, which the adapters trust) and sets DAEMON_SOCK.
bench_daemon() {
	mkdir -p -m 0755 "$W/run"
	DAEMON_SOCK=$W/run/check.sock
	"$B/bin/revocheck" daemon --socket "$DAEMON_SOCK" --cache-dir "$1" >/dev/null &
	BENCH_PIDS+=($!)
	for _ in $(seq 200); do [[ -S $DAEMON_SOCK ]] && return; sleep 0.05; done
	die "the check daemon did not start"
}

bench_cnf() {
	local f=$1 bd=$2 kv
	shift 2
	{
		echo ".include $ROOT/openssl-provider/revocheck-openssl.cnf"
		echo "[ revocheck_sect ]"
		echo "module = $bd/lib/revocheck-openssl.so"
		for kv in "$@"; do echo "${kv/=/ = }"; done
	} >"$f"
}

bench_row() {
	(($# == 6)) || die "bench_row: want 6 fields, got $#"
	printf '  %-58s %-28s goal %-22s %s\n' "$2" "$3" "$4" "$5"
	if [[ -n ${BENCH_ROWS:-} ]]; then
		local f out=()
		for f in "$@"; do
			f=${f//$'\t'/ }
			out+=("${f//$'\n'/ }")
		done
		(IFS=$'\t'; echo "${out[*]}") >>"$BENCH_ROWS"
	fi
}

bench_median() {
	sort -g "$1" | awk '{v[NR] = $1} END { if (NR == 0) exit 1
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_verdict VALUE LIMIT: "meets" when VALUE <= LIMIT, else "MISSES".
bench_verdict() {
	awk -v v="$1" -v l="$2" 'BEGIN { print (v + 0 <= l + 0) ? "meets" : "MISSES" }'
}
