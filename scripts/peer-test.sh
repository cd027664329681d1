#!/usr/bin/env bash
# peer-test.sh — run the TLS stacks' own test suites (Debian's curl, GnuTLS
# and OpenSSL sources) without revocheck and with its adapters loaded into
# the test processes, with an empty and a filled cache, and compare the
# results test by test. Fails when a result differs because of revocheck.
# Not part of `make test`: it builds three projects and runs their suites
# several times (hours on a small machine). See docs/PEER-TEST.md.
#
#   scripts/peer-test.sh [--only curl|gnutls|openssl]... [-j N]
#                        [--modes "base [plain] empty filled"]
#                        [--openssl-tests 'test_verify* ...'] [--gnutls-tests 'a b ...']
#                        [--build-only]
#
# Downloads nothing but Debian's source packages (apt-get source) and, when
# missing and run as root, their build dependencies (apt-get build-dep).
set -euo pipefail
export LC_ALL=C # sort and join agree

ROOT=${PEER_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${REVOCHECK_BUILD:-$ROOT/build}
WORK=${PEER_WORK:-/tmp/revocheck-peer}
JOBS=$(nproc)
ONLY=()
MODES="base empty filled"
BUILD_ONLY=0
OPENSSL_TESTS=${PEER_OPENSSL_TESTS:-}   # empty: the whole suite
GNUTLS_TESTS=${PEER_GNUTLS_TESTS:-}     # empty: the whole `make check`
# curl's tests that make real TLS handshakes (through stunnel): every test
# whose <keywords> name one of these.
CURL_KEYWORDS=${PEER_CURL_KEYWORDS:-HTTPS FTPS}

usage() { sed -n '2,15s/^# \{0,1\}//p' "$0"; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--only) ONLY+=("$2"); shift 2 ;;
	--only=*) ONLY+=("${1#*=}"); shift ;;
	-j) JOBS=$2; shift 2 ;;
	-j*) JOBS=${1#-j}; shift ;;
	--modes) MODES=$2; shift 2 ;;
	--openssl-tests) OPENSSL_TESTS=$2; shift 2 ;;
	--gnutls-tests) GNUTLS_TESTS=$2; shift 2 ;;
	--build-only) BUILD_ONLY=1; shift ;;
	-h|--help) usage 0 ;;
	*) echo "peer-test: unknown argument $1" >&2; usage 2 >&2 ;;
	esac
done
[ ${#ONLY[@]} -gt 0 ] || ONLY=(curl gnutls openssl)
for s in "${ONLY[@]}"; do
	case $s in curl|gnutls|openssl) ;; *) echo "peer-test: --only wants curl, gnutls or openssl, not $s" >&2; exit 2 ;; esac
done
case " $MODES " in *" base "*) ;; *) echo "peer-test: --modes must include base (the reference run)" >&2; exit 2 ;; esac

SRC=$WORK/src
RES=${PEER_RESULTS:-$WORK/results} # per invocation: summary, proof, tables
mkdir -p "$SRC" "$RES" "$WORK/build" "$WORK/cache"
log() { printf '[peer-test %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

for f in bin/revocheck lib/librevocheck.so.0 lib/revocheck-openssl.so lib/librevocheck-gnutls.so; do
	[ -e "$BUILD/$f" ] || { echo "peer-test: $BUILD/$f missing: run make all first" >&2; exit 1; }
done

# --- sources and build dependencies -------------------------------------
apt_locked() { # apt-get waits for the dpkg lock itself, with a bound
	apt-get -o DPkg::Lock::Timeout=900 "$@"
}

ensure_deb_src() {
	if apt-cache showsrc openssl 2>/dev/null | grep -q '^Package: openssl'; then return; fi
	if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		[ "$(id -u)" = 0 ] || { echo "peer-test: no deb-src line in /etc/apt; add one (see docs/PEER-TEST.md)" >&2; exit 1; }
		log "adding /etc/apt/sources.list.d/revocheck-peer-src.sources (deb-src for $(. /etc/os-release; echo "$VERSION_CODENAME"))"
		cat > /etc/apt/sources.list.d/revocheck-peer-src.sources <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $(. /etc/os-release; echo "$VERSION_CODENAME")
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	fi
	[ "$(id -u)" = 0 ] && apt_locked update -q
}

# fetch PKG: Debian's source package, unpacked with Debian's patches applied.
fetch() {
	local pkg=$1
	if ! ls "$SRC/${pkg}"_*.dsc >/dev/null 2>&1; then
		log "apt-get source $pkg"
		(cd "$SRC" && apt-get source --download-only "$pkg") >&2
	fi
	local dsc
	dsc=$(ls "$SRC/${pkg}"_*.dsc | tail -n 1)
	if [ ! -d "$SRC/$pkg.tree" ]; then
		rm -rf "$SRC/$pkg.tmp"
		dpkg-source -x "$dsc" "$SRC/$pkg.tmp" >/dev/null
		mv "$SRC/$pkg.tmp" "$SRC/$pkg.tree"
	fi
	if [ "$(id -u)" = 0 ] && ! (cd "$SRC/$pkg.tree" && dpkg-checkbuilddeps >/dev/null 2>&1); then
		log "apt-get build-dep $pkg"
		DEBIAN_FRONTEND=noninteractive apt_locked build-dep -y -q "$pkg" >&2
	fi
	basename "$dsc" .dsc
}

# --- caches and the proof log -------------------------------------------
CACHE_EMPTY=$WORK/cache/empty
CACHE_FILLED=$WORK/cache/filled
mkdir -p "$CACHE_EMPTY"
if [ ! -f "$CACHE_FILLED/manifest.json" ]; then
	rm -rf "$CACHE_FILLED"
	"$BUILD/bin/revocheck" filter build --out "$CACHE_FILLED" --synthetic \
		--issuers 200 --serials 200000 --deltas 3 --delta-serials 5000 >&2
fi
# The synthetic data is dated in the past: with max-age off it is current,
# so the filled run really looks certificates up (not-enrolled, not-covered)
# instead of stopping at "stale".
printf 'max-age = "0"\n' > "$WORK/cache/config.toml"

# A datagram socket collecting the adapters' debug lines (REVOCHECK_DEBUG=1
# with syslog output to $REVOCHECK_LOG_SOCKET): proof that they were loaded
# into the test processes, without a byte on the tests' own stderr.
LOGPID=
start_log() {
	local sock=$1 out=$2
	rm -f "$sock" "$out"
	python3 - "$sock" "$out" <<'EOF' &
import socket, sys
# The adapters send without blocking: a line that finds the queue full is
# dropped. The queue holds net.unix.max_dgram_qlen datagrams (10 by
# default, fixed when the socket is created), too few for a burst of debug
# lines when this reader runs niced: raise it for this socket only (root),
# and its byte budget.
qlen = "/proc/sys/net/unix/max_dgram_qlen"
try:
    with open(qlen) as f:
        old = f.read().strip()
    with open(qlen, "w") as f:
        f.write("65536")
except OSError:
    old = None
    print("peer-test: cannot raise %s: debug lines may be dropped under load" % qlen, file=sys.stderr)
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
finally:
    if old is not None:
        with open(qlen, "w") as f:
            f.write(old)
try:
    s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE (root)
except OSError:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(4096) + b"\n")
EOF
	LOGPID=$!
	for _ in $(seq 50); do [ -S "$sock" ] && return; sleep 0.1; done
	echo "peer-test: log socket $sock did not appear" >&2; exit 1
}
stop_log() {
	if [ -n "$LOGPID" ]; then kill "$LOGPID" 2>/dev/null || true; wait "$LOGPID" 2>/dev/null || true; fi
	LOGPID=
}
trap stop_log EXIT

# mode_env MODE: the revocheck environment of a run (nothing for base).
mode_env() {
	local mode=$1
	case $mode in
	base|plain) ;;
	empty|filled)
		local cache=$CACHE_EMPTY; [ "$mode" = filled ] && cache=$CACHE_FILLED
		echo "REVOCHECK_DEBUG=1 REVOCHECK_LOG_SOCKET=$RUNDIR/adapters.sock REVOCHECK_GNUTLS_SYSLOG=1"
		echo "REVOCHECK_CACHE_DIR=$cache REVOCHECK_CONFIG=$WORK/cache/config.toml"
		echo "REVOCHECK_LIBRARY=$BUILD/lib/librevocheck.so.0 REVOCHECK_SOCKET=none"
		;;
	*) echo "peer-test: unknown mode $mode" >&2; exit 2 ;;
	esac
}

# An openssl.cnf section list for a mode: base activates only `default`
# (any provider section must; three OpenSSL tests fail without revocheck
# just because of that), the others add the revocheck provider, logging to
# syslog (our socket) so the tests' stderr stays theirs.
openssl_snippet() {
	[ "$1" = plain ] && return 0 # the distribution's file as it is
	cat <<EOF

# --- added by revocheck's scripts/peer-test.sh (mode $1) ---
[ default ]
openssl_conf = openssl_init
[ openssl_init ]
providers = provider_sect
[ provider_sect ]
default = default_sect
EOF
	[ "$1" = base ] || echo "revocheck = revocheck_sect"
	printf '[ default_sect ]\nactivate = 1\n'
	[ "$1" = base ] || printf '[ revocheck_sect ]\nmodule = %s\nactivate = 1\nlog = syslog\n' "$BUILD/lib/revocheck-openssl.so"
}

# proof STACK MODE LOG: the adapters' lines in the run's log, or failure.
proof() {
	local stack=$1 mode=$2 logf=$3
	case $mode in base|plain) return 0 ;; esac
	local want
	case $stack in curl) want="openssl-provider|gnutls" ;; gnutls) want=gnutls ;; openssl) want=openssl ;; esac
	local n pids
	n=$(grep -cE "revocheck\[[0-9]+\]: [^:]*($want)" "$logf" 2>/dev/null || true)
	pids=$(grep -oE "revocheck\[[0-9]+\]: [^:]*($want)" "$logf" 2>/dev/null | sed 's/\].*//' | sort -u | wc -l || true)
	# Chains the adapters actually checked: the provider's "depth N: outcome",
	# the hook's "certificate N of the chain[ (verified path)]: outcome"
	# ("issuer" counts its "issuer not available, not checked").
	local checks; checks=$(grep -E "($want)" "$logf" 2>/dev/null | grep -oE '[a-z-]+: (depth [0-9]+|certificate [0-9]+ of the chain( \(verified path\))?): [a-z_]+' \
		| sed -E 's/^([a-z-]+): .*: /\1 /' | sort | uniq -c | awk '{printf "%s%s %s %s", sep, $2, $1, $3; sep=", "}' || true)
	printf '%s %s: %s adapter debug lines from %s processes; certificates checked: %s (%s)\n' \
		"$stack" "$mode" "${n:-0}" "${pids:-0}" "${checks:-none}" "$logf" >> "$RES/proof.txt"
	if [ "${n:-0}" -eq 0 ]; then
		echo "peer-test: $stack $mode: no debug line from the adapter: it was not loaded, the run proves nothing" >&2
		return 1
	fi
}

# --- curl ---------------------------------------------------------------
curl_build() {
	local d=$WORK/build/curl
	[ -f "$d/.built" ] && return
	local ver; ver=$(fetch curl)
	rm -rf "$d"; cp -a "$SRC/curl.tree" "$d"
	cd "$d"
	# Debian builds its OpenSSL flavour without its last two patches
	# (libcurl-gnutls, libcurl-nss names); one MultiSSL build serves both
	# backends, chosen per run by CURL_SSL_BACKEND.
	QUILT_PATCHES=debian/patches quilt pop -q
	QUILT_PATCHES=debian/patches quilt pop -q
	./buildconf >&2
	./configure --disable-dependency-tracking --enable-threaded-resolver --with-nghttp2 \
		--with-openssl --with-gnutls --without-libssh2 --without-libssh \
		--with-ca-bundle=/etc/ssl/certs/ca-certificates.crt >&2
	make -j"$JOBS" >&2
	make -j"$JOBS" -C tests >&2 # test servers and libtest, not under the adapters
	echo "$ver" > "$d/.built"
}

# The test numbers selected by CURL_KEYWORDS.
curl_tests() {
	local d=$WORK/build/curl/tests/data kw re
	re=$(printf '%s|' $CURL_KEYWORDS); re="^(${re%|})\$"
	for f in "$d"/test[0-9]*; do
		kw=$(sed -n '/<keywords>/,/<\/keywords>/p' "$f")
		grep -qE "$re" <<<"$kw" && echo "${f##*/test}"
	done | sort -n
}

# curl_run MODE OUT [TEST...]: results as "backend/number RESULT" lines.
curl_run() {
	local mode=$1 out=$2; shift 2
	local tests=("$@"); [ ${#tests[@]} -gt 0 ] || mapfile -t tests < <(curl_tests)
	local env; env=$(mode_env "$mode")
	local extra=""
	case $mode in base|plain) ;; *) extra="OPENSSL_CONF=$RUNDIR/openssl.cnf LD_PRELOAD=$BUILD/lib/librevocheck-gnutls.so" ;; esac
	# Debian's own configuration plus the mode's sections: what a system
	# with revocheck enabled in /etc/ssl/openssl.cnf would read.
	{ cat /etc/ssl/openssl.cnf; openssl_snippet "$mode"; } > "$RUNDIR/openssl.cnf"
	: > "$out"
	local be
	for be in openssl gnutls; do
		(cd "$WORK/build/curl/tests" &&
			env CURL_SSL_BACKEND=$be $env $extra perl runtests.pl -a -am -n "${tests[@]}" \
				> "$RUNDIR/curl-$be.log" 2>&1) || true
		local t r
		for t in "${tests[@]}"; do
			r=$(grep -oE "^(PASS|FAIL): $((10#$t)) " "$RUNDIR/curl-$be.log" | head -n 1 | cut -d: -f1 || true)
			echo "$be/$t ${r:-SKIP}"
		done >> "$out"
	done
}

# --- GnuTLS -------------------------------------------------------------
gnutls_build() {
	local d=$WORK/build/gnutls
	[ -f "$d/.built" ] && return
	local ver; ver=$(fetch gnutls28)
	rm -rf "$d"; cp -a "$SRC/gnutls28.tree" "$d"
	cd "$d"
	autoreconf -fi >&2 # as Debian's rules do (dh_autoreconf)
	# Debian's configure options (debian/rules), without docs and guile.
	./configure --enable-ld-version-script --enable-cxx --disable-rpath --enable-libdane \
		--without-tpm --enable-openssl-compatibility --disable-doc --disable-gtk-doc \
		--disable-guile --with-unbound-root-key-file=/usr/share/dns/root.key \
		--with-default-trust-store-file=/etc/ssl/certs/ca-certificates.crt >&2
	make -j"$JOBS" >&2
	make -j"$JOBS" check TESTS= >&2 # build the test programs, run nothing
	echo "$ver" > "$d/.built"
}

# gnutls_run MODE OUT [TEST...]: results as "dir/test RESULT" from the .trs files.
gnutls_run() {
	local mode=$1 out=$2; shift 2
	local d=$WORK/build/gnutls env extra=""
	env=$(mode_env "$mode")
	case $mode in base|plain) ;; *) extra="LD_PRELOAD=$BUILD/lib/librevocheck-gnutls.so" ;; esac
	# Tests are named DIR/TEST (TEST alone: tests/TEST), run per directory.
	local sel=("$@") t
	[ ${#sel[@]} -gt 0 ] || read -r -a sel <<<"$GNUTLS_TESTS"
	find "$d" -name '*.trs' -delete
	if [ ${#sel[@]} -gt 0 ]; then
		local dirs; dirs=$(for t in "${sel[@]}"; do [[ $t == */* ]] || t=tests/$t; dirname "$t"; done | sort -u)
		for dir in $dirs; do
			local names; names=$(for t in "${sel[@]}"; do [[ $t == */* ]] || t=tests/$t; [ "$(dirname "$t")" = "$dir" ] && basename "$t"; done | tr '\n' ' ')
			# SUBDIRS= : the names are this directory's tests only.
			(cd "$d/$dir" && env $env $extra make -k -j"$JOBS" check SUBDIRS= TESTS="$names" >> "$RUNDIR/gnutls.log" 2>&1) || true
		done
	else
		(cd "$d" && env $env $extra make -k -j"$JOBS" check > "$RUNDIR/gnutls.log" 2>&1) || true
	fi
	find "$d" -name '*.trs' | sort | while read -r f; do
		local r; r=$(sed -n 's/^:test-result: //p' "$f" | head -n 1)
		f=${f#"$d"/}; echo "${f%.trs} ${r:-NONE}"
	done > "$out"
}

# --- OpenSSL ------------------------------------------------------------
openssl_build() {
	local d=$WORK/build/openssl
	[ -f "$d/.built" ] && return
	local ver; ver=$(fetch openssl)
	rm -rf "$d"; cp -a "$SRC/openssl.tree" "$d"
	cd "$d"
	# Debian's shared build (debian/rules CONFARGS).
	./Configure shared --prefix=/usr --openssldir=/usr/lib/ssl no-idea no-mdc2 no-rc5 no-zlib \
		no-ssl3 enable-unit-test no-ssl3-method enable-rfc3779 enable-cms no-capieng no-rdrand \
		enable-ec_nistp_64_gcc_128 "debian-$(dpkg --print-architecture)" >&2
	make -j"$JOBS" >&2
	cp apps/openssl.cnf apps/openssl.cnf.debian
	echo "$ver" > "$d/.built"
}

# openssl_run MODE OUT [RECIPE...]: results as "recipe RESULT" from TAP's summary.
openssl_run() {
	local mode=$1 out=$2; shift 2
	local d=$WORK/build/openssl env
	env=$(mode_env "$mode")
	local sel=("$@")
	[ ${#sel[@]} -gt 0 ] || read -r -a sel <<<"$OPENSSL_TESTS"
	# test/run_tests.pl sets OPENSSL_CONF to apps/openssl.cnf: the mode's
	# sections go there (Debian's file plus our snippet).
	{ cat "$d/apps/openssl.cnf.debian"; openssl_snippet "$mode"; } > "$d/apps/openssl.cnf"
	if [ -n "$env" ]; then
		(cd "$d" && env $env OPENSSL_CONF="$d/apps/openssl.cnf" OPENSSL_MODULES="$d/providers" \
			util/wrap.pl apps/openssl list -providers) >> "$RES/proof.txt" 2>&1 || true
	fi
	(cd "$d" && env $env HARNESS_JOBS="$JOBS" make test ${sel[@]+TESTS="${sel[*]}"} \
		> "$RUNDIR/openssl.log" 2>&1) || true
	cp "$d/apps/openssl.cnf.debian" "$d/apps/openssl.cnf"
	# "90-test_sslapi.t .. ok", ".. skipped: why", ".. Failed 2/10 subtests", ".. Dubious".
	# Parallel runs draw progress with \r: a result starts after the last.
	tr '\r' '\n' < "$RUNDIR/openssl.log" \
		| sed -nE 's/^(.*\/)?([0-9][0-9]-test_[A-Za-z0-9_.-]+\.t) \.+ ?(ok|skipped|Failed|Dubious|No subtests).*/\2 \3/p' | sed -E 's/ ok$/ PASS/; s/ skipped$/ SKIP/; s/ (Failed|Dubious|No subtests)$/ FAIL/' \
		| sort -u > "$out"
	# Recipes failing in a way the summary names only in "Test Summary Report".
	sed -nE 's/^(.*\/)?([0-9][0-9]-test_[A-Za-z0-9_.-]+\.t) +\(Wstat.*/\2 FAIL/p' "$RUNDIR/openssl.log" \
		| while read -r t r; do sed -i "s/^$t .*/$t FAIL/" "$out"; grep -q "^$t " "$out" || echo "$t FAIL" >> "$out"; done
	sort -o "$out" "$out"
}

# --- runs and comparison ------------------------------------------------
# run STACK MODE [TEST...] -> $RES/STACK.MODE (or .rerun when tests are given)
run() {
	local stack=$1 mode=$2; shift 2
	local tag=$mode; [ $# -gt 0 ] && tag=$mode.rerun
	RUNDIR=$WORK/run/$stack.$tag
	rm -rf "$RUNDIR"; mkdir -p "$RUNDIR"
	case $mode in base|plain) ;; *) start_log "$RUNDIR/adapters.sock" "$RUNDIR/adapters.log" ;; esac
	local t0=$SECONDS
	"${stack}_run" "$mode" "$RES/$stack.$tag" "$@"
	stop_log
	log "$stack $tag: $(wc -l < "$RES/$stack.$tag") results in $((SECONDS - t0))s"
	[ "$tag" = "$mode" ] && echo "$stack $mode $((SECONDS - t0))s" >> "$RES/durations.txt"
	proof "$stack" "$mode" "$RUNDIR/adapters.log"
}

# compare STACK: a table of every test in every mode; differences are run
# again (base and the mode, that test alone) to tell flaky from caused.
compare() {
	local stack=$1 m caused=0 flaky=0
	local modes=($MODES)
	{
		printf '%-48s' test; for m in "${modes[@]}"; do printf ' %-6s' "$m"; done; echo
		sort -u "${modes[@]/#/$RES/$stack.}" | cut -d' ' -f1 | sort -u | while read -r t; do
			printf '%-48s' "$t"
			for m in "${modes[@]}"; do printf ' %-6s' "$(grep -m1 "^$t " "$RES/$stack.$m" | cut -d' ' -f2 || echo -)"; done
			echo
		done
	} > "$RES/$stack.table"
	for m in "${modes[@]}"; do
		[ "$m" = base ] && continue
		local t rb rm
		while read -r t rb rm; do
			[ "$rb" = "$rm" ] && continue
			# Again, alone, both ways.
			local arg=${t##*/}
			case $stack in openssl) arg=${arg%.t}; arg=${arg#[0-9][0-9]-} ;; gnutls) arg=$t ;; esac
			local b2 m2
			run "$stack" base "$arg" </dev/null || true; b2=$(grep -m1 "^$t " "$RES/$stack.base.rerun" | cut -d' ' -f2 || true)
			run "$stack" "$m" "$arg" </dev/null || true; m2=$(grep -m1 "^$t " "$RES/$stack.$m.rerun" | cut -d' ' -f2 || true)
			b2=${b2:-NONE}; m2=${m2:-NONE}
			if [ "$m" = plain ]; then
				echo "$stack $t: $rb (base) vs $rm (plain: no provider section at all), alone again: $b2 vs $m2: differs WITHOUT revocheck" >> "$RES/differences.txt"
			elif [ "$b2" = "$m2" ]; then
				echo "$stack $t: $rb (base) vs $rm ($m), alone again: $b2 both: flaky, not revocheck" >> "$RES/differences.txt"
				flaky=$((flaky + 1))
			else
				echo "$stack $t: $rb (base) vs $rm ($m), alone again: $b2 vs $m2: CAUSED BY REVOCHECK" >> "$RES/differences.txt"
				caused=$((caused + 1))
			fi
		done < <(join -a1 -e MISSING -o 0,1.2,2.2 <(sort "$RES/$stack.base") <(sort "$RES/$stack.$m"))
	done
	local line
	line=$(printf '%s:' "$stack"; for m in "${modes[@]}"; do
		printf ' %s %s pass / %s fail / %s skip;' "$m" \
			"$(grep -c ' PASS$' "$RES/$stack.$m" || true)" \
			"$(grep -cE ' (FAIL|ERROR)$' "$RES/$stack.$m" || true)" \
			"$(grep -cvE ' (PASS|FAIL|ERROR)$' "$RES/$stack.$m" || true)"
	done; printf ' differences caused by revocheck: %s, flaky: %s' "$caused" "$flaky")
	echo "$line" | tee -a "$RES/summary.txt"
	[ "$caused" -eq 0 ]
}

ensure_deb_src
if [ "$BUILD_ONLY" = 1 ]; then
	for stack in "${ONLY[@]}"; do log "$stack: build"; (set -e; "${stack}_build"); done
	exit 0
fi
: > "$RES/proof.txt"; : > "$RES/differences.txt"; : > "$RES/durations.txt"
{ echo "peer-test $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -m), $(nproc) cores, -j$JOBS; revocheck $(cat "$ROOT/VERSION")"
  echo "modes: $MODES; curl keywords: $CURL_KEYWORDS; gnutls tests: ${GNUTLS_TESTS:-all}; openssl tests: ${OPENSSL_TESTS:-all}"; } > "$RES/summary.txt"
status=0
for stack in "${ONLY[@]}"; do
	log "$stack: build"
	(set -e; "${stack}_build")
	echo "$stack: $(cat "$WORK/build/$stack/.built")" >> "$RES/summary.txt"
	for mode in $MODES; do
		log "$stack: $mode run"
		run "$stack" "$mode" || status=1
	done
	compare "$stack" || status=1
done
echo "---" ; cat "$RES/summary.txt"; cat "$RES/proof.txt" | grep -v '^ \|^Providers' || true
[ -s "$RES/differences.txt" ] && cat "$RES/differences.txt"
echo "tables: $RES/*.table"
exit "$status"
