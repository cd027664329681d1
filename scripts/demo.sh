#!/usr/bin/env bash
# The README's first command (make demo): a local PKI and revocation cache,
# HTTPS sites on 127.0.0.1 for a good, a revoked and an uncovered
# certificate, and real clients — curl (OpenSSL), wget (GnuTLS), tstclnt
# (NSS) — run twice: without revocheck, then with it enabled through each
# stack's own extension point; then once more through the check daemon
# (`revocheck daemon`), with no Go runtime in the clients. Nothing leaves
# 127.0.0.1.
set -uo pipefail
cd "$(dirname "$0")/.."
B=$PWD/build
D=$(mktemp -d /tmp/revocheck-demo.XXXXXX)
DAEMON_PID=
trap 'kill $SITES_PID $DAEMON_PID 2>/dev/null; wait $SITES_PID $DAEMON_PID 2>/dev/null; rm -rf "$D"' EXIT

"$B/bin/revocheck-testsites" --dir "$D" >/dev/null &
SITES_PID=$!
for _ in $(seq 100); do [[ -f $D/sites.env ]] && break; sleep 0.1; done
[[ -f $D/sites.env ]] || { echo "demo: the test sites did not start" >&2; exit 1; }
# shellcheck disable=SC1091
source "$D/sites.env"

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
fails=0
# verdict NAME EXPECT(accept|refuse) CMD...: runs CMD, prints one line.
verdict() {
	local name=$1 expect=$2; shift 2
	local out rc got
	if declare -F "$1" >/dev/null; then # a shell function sets its own timeout
		out=$("$@" 2>&1 </dev/null); rc=$?
	else
		out=$(timeout 30 "$@" 2>&1 </dev/null); rc=$?
	fi
	if [[ $rc -eq 0 ]]; then got=accept; else got=refuse; fi
	local why
	why=$(grep -oiE 'certificate revoked|has been revoked|SEC_ERROR_[A-Z_]+|hello from [a-z-]+' <<<"$out" | head -1)
	local word=accepted
	[[ $got == refuse ]] && word=REFUSED
	if [[ $got == "$expect" ]]; then
		printf '  %-12s %-9s %s\n' "$name" "$word" "$why"
	else
		printf '  %-12s %-9s %s   <-- UNEXPECTED (wanted %s)\n' "$name" "$word" "$why" "$expect"
		fails=$((fails + 1))
	fi
}

bold "1. revocheck check: what the cache says about each site's certificate"
for s in GOOD REVOKED UNCOVERED; do
	chain=SITE_${s}_CHAIN
	printf '  %-10s ' "${s,,}"
	"$B/bin/revocheck" check --cache-dir "$CACHE_DIR" "${!chain}" | head -1
done

sites=(GOOD REVOKED UNCOVERED)
expect_with() { [[ $1 == REVOKED ]] && echo refuse || echo accept; }

bold "2. curl (OpenSSL) WITHOUT revocheck: every site is accepted"
for s in "${sites[@]}"; do u=SITE_${s}_URL; verdict "${s,,}" accept curl -sS --cacert "$ROOT_PEM" "${!u}"; done

cat >"$D/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
revocheck = revocheck_sect
[default_sect]
activate = 1
[revocheck_sect]
module = $B/lib/revocheck-openssl.so
cache-dir = $CACHE_DIR
activate = 1
CNF
bold "3. curl (OpenSSL) WITH the revocheck provider (OPENSSL_CONF): only the revoked site is refused"
for s in "${sites[@]}"; do u=SITE_${s}_URL; verdict "${s,,}" "$(expect_with "$s")" env OPENSSL_CONF="$D/openssl.cnf" curl -sS --cacert "$ROOT_PEM" "${!u}"; done

if [[ -f $B/lib/librevocheck-gnutls.so ]] && command -v wget >/dev/null; then
	bold "4. wget (GnuTLS) WITHOUT, then WITH the revocheck hook (LD_PRELOAD)"
	for s in "${sites[@]}"; do u=SITE_${s}_URL; verdict "${s,,}" accept wget -qO- --ca-certificate="$ROOT_PEM" "${!u}"; done
	echo "  -- with LD_PRELOAD=$B/lib/librevocheck-gnutls.so:"
	for s in "${sites[@]}"; do u=SITE_${s}_URL; verdict "${s,,}" "$(expect_with "$s")" env LD_PRELOAD="$B/lib/librevocheck-gnutls.so" REVOCHECK_CACHE_DIR="$CACHE_DIR" wget -O- --ca-certificate="$ROOT_PEM" "${!u}"; done
fi

if [[ -f $B/lib/libnssrevocheck.so ]] && command -v tstclnt >/dev/null; then
	bold "5. tstclnt (NSS) WITHOUT, then WITH the revocheck PKCS#11 module (modutil)"
	db=$D/nssdb; mkdir -p "$db"
	certutil -N --empty-password -d "sql:$db"
	certutil -A -d "sql:$db" -n revocheck-test-root -t "C,," -i "$ROOT_PEM"
	# tstclnt sends stdin as the request; a regular file, so it exits at EOF.
	printf 'GET / HTTP/1.0\r\n\r\n' >"$D/get"
	tst() { timeout 30 tstclnt -h 127.0.0.1 -p "$1" -d "sql:$db" <"$D/get"; }
	nss_sites=(GOOD CRL_REVOKED UNCOVERED)
	for s in "${nss_sites[@]}"; do p=SITE_${s}_PORT; verdict "${s,,}" accept tst "${!p}"; done
	modutil -add revocheck -libfile "$B/lib/libnssrevocheck.so" -string "cache-dir=$CACHE_DIR" -dbdir "sql:$db" -force >/dev/null
	echo "  -- with the module registered (it uses exact CRL-compiled data: see docs/NSS.md):"
	for s in "${nss_sites[@]}"; do p=SITE_${s}_PORT; e=accept; [[ $s == CRL_REVOKED ]] && e=refuse
		verdict "${s,,}" "$e" tst "${!p}"; done
fi

bold "6. The check daemon: the same clients ask \`revocheck daemon\` over a socket instead of loading Go"
mkdir -m 0755 "$D/run"
"$B/bin/revocheck" daemon --socket "$D/run/check.sock" --cache-dir "$CACHE_DIR" >/dev/null &
DAEMON_PID=$!
for _ in $(seq 100); do [[ -S $D/run/check.sock ]] && break; sleep 0.05; done
# librevocheck.so is made unloadable, and "unavailable" denied: every
# answer below can only have come from the daemon.
noLib=(REVOCHECK_SOCKET="$D/run/check.sock" REVOCHECK_LIBRARY="$D/no-library-here.so")
sed -e 's|^cache-dir = .*|&\nunavailable = deny|' "$D/openssl.cnf" >"$D/openssl-daemon.cnf"
echo "  -- curl:"
for s in "${sites[@]}"; do u=SITE_${s}_URL; verdict "${s,,}" "$(expect_with "$s")" env "${noLib[@]}" OPENSSL_CONF="$D/openssl-daemon.cnf" curl -sS --cacert "$ROOT_PEM" "${!u}"; done
if [[ -f $B/lib/librevocheck-gnutls.so ]] && command -v wget >/dev/null; then
	echo "  -- wget:"
	for s in "${sites[@]}"; do u=SITE_${s}_URL; verdict "${s,,}" "$(expect_with "$s")" env "${noLib[@]}" REVOCHECK_GNUTLS_UNAVAILABLE=deny LD_PRELOAD="$B/lib/librevocheck-gnutls.so" wget -O- --ca-certificate="$ROOT_PEM" "${!u}"; done
fi

echo
if ((fails)); then
	echo "demo: $fails unexpected verdict(s)" >&2
	exit 1
fi
echo "demo: every client refused exactly the revoked certificates once revocheck was enabled."
