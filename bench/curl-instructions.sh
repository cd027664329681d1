#!/usr/bin/env bash
# curl-instructions.sh [K] — instructions executed by a whole curl process
# (valgrind --tool=callgrind, every thread of the process) without the
# OpenSSL provider, with it checking in-process, and with it asking the
# check daemon: for one fetch, and for K fresh handshakes in one process.
#
# Instruction counts do not move with the machine's load, unlike wall time
# on a shared VM: they separate what revocheck makes curl execute from
# what scheduling, page faults and thread start-up cost around it. The
# daemon's own instructions are not counted (they run in another process);
# one check there is ~1 µs of work plus the socket round trip.
#
# Needs make all and valgrind. Rows go to $BENCH_ROWS when set
# (bench/run-all.sh). Only 127.0.0.1 is used.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init curl-instructions
K=${1:-20}
[[ $K =~ ^[1-9][0-9]*$ ]] || die "K must be a positive number"
command -v valgrind >/dev/null || die "valgrind is not installed (Debian: valgrind)"
[[ -f $B/lib/revocheck-openssl.so && -f $B/lib/librevocheck.so.0 ]] || die "run make all first"

bench_sites
bench_daemon "$CACHE_DIR"
cnf() { # NAME EXTRA-LINES...
	local name=$1
	shift
	{
		echo ".include $ROOT/openssl-provider/revocheck-openssl.cnf"
		echo "[ revocheck_sect ]"
		echo "module = $B/lib/revocheck-openssl.so"
		echo "cache-dir = $CACHE_DIR"
		printf '%s\n' "$@"
	} >"$W/$name.cnf"
}
cnf inproc "socket = none"
cnf daemon "socket = $DAEMON_SOCK" "library = $W/no-library-here.so" "unavailable = deny"

# instructions VARIANT N: Ir of one curl process making N fetches.
instructions() {
	local env=(env) urls=() i
	[[ $1 != plain ]] && env=(env OPENSSL_CONF="$W/$1.cnf")
	for ((i = 0; i < $2; i++)); do urls+=("$SITE_GOOD_URL"); done
	# Go under callgrind: asynchronous preemption (SIGURG) off, and no
	# RDTSCP (valgrind 3.19 cannot decode it; Go's lock spinning uses it),
	# as bench/report/cabi.go does. Should valgrind still die on the Go
	# runtime, the run is retried; a wrong answer is not.
	for attempt in 1 2 3; do
		if "${env[@]}" GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" \
			curl -sS -o /dev/null --http1.1 -H "Connection: close" --no-sessionid --cacert "$ROOT_PEM" "${urls[@]}" \
			>"$W/cg.log" 2>&1; then
			awk '/Collected :/ { print $NF }' "$W/cg.log"
			return
		fi
		grep -q "did not recognise\|send all the above text\|valgrind: the 'impossible' happened\|Valgrind's memory management\|valgrind: m_" "$W/cg.log" || break
		echo "curl-instructions: valgrind crashed (attempt $attempt), retrying" >&2
	done
	cat "$W/cg.log" >&2
	die "curl ($1) failed under valgrind"
}

# Sanity: both provider variants refuse the revoked site (without valgrind).
for v in inproc daemon; do
	OPENSSL_CONF=$W/$v.cnf curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_REVOKED_URL" 2>/dev/null &&
		die "the provider ($v) did not refuse the revoked site"
done

echo "curl $(curl --version | head -1 | cut -d' ' -f2), $(valgrind --version), instructions per process"
for n in 1 "$K"; do
	p=$(instructions plain "$n")
	i=$(instructions inproc "$n")
	d=$(instructions daemon "$n")
	what="one fetch per process"
	((n > 1)) && what="$n fresh handshakes in one process"
	printf '%-36s without %11d  in-process %11d (%.3f)  via daemon %11d (%.3f)\n' "$what:" "$p" "$i" \
		"$(awk -v a="$i" -v b="$p" 'BEGIN{print a/b}')" "$d" "$(awk -v a="$d" -v b="$p" 'BEGIN{print a/b}')"
	bench_row process "curl instructions executed (callgrind, whole process), $what: without the provider / in-process / asking the daemon" \
		"$(awk -v p="$p" -v i="$i" -v d="$d" 'BEGIN { printf "%.1f M / %.1f M (%.3f) / %.1f M (%.3f)", p/1e6, i/1e6, i/p, d/1e6, d/p }')" \
		"≤ 1.05 (instructions, not wall time)" "$(bench_verdict "$(awk -v d="$d" -v p="$p" 'BEGIN{print d/p}')" 1.05)" \
		"bench/curl-instructions.sh $K"
done
