#!/bin/sh
# Runs inside the client container (the suite image, enabled system-wide).
# Fetches the cache from the mirror container, then runs plain clients with
# no extra flags against the server container's sites: revoked refused,
# good accepted; then `revocheck disable` and the revoked site is accepted.
#
#   client-tests.sh MIRROR_URL
#
# Prints one line per verdict and "N passed, N failed"; exits 1 on any
# wrong verdict.
set -u
mirror=${1%/}
pass=0
fail=0
out=$(mktemp)

ok() { pass=$((pass + 1)); echo "ok    $*"; }
bad() {
	fail=$((fail + 1))
	echo "FAIL  $*"
	sed 's/^/      | /' "$out" | tail -n 12
}

# One client against one site: prints the client's combined output to $out
# and returns its exit status. Only the names are given: trust, revocation
# and NSS database come from the system configuration.
client() {
	c=$1 site=$2 url=https://$2.test/
	case $c in
	curl) curl -sS --max-time 20 "$url" ;;
	wget) wget -O - --timeout=20 --tries=1 "$url" ;;
	python3) python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' "$url" ;;
	gnutls-cli)
		printf 'GET / HTTP/1.0\r\nHost: %s.test\r\n\r\n' "$site" >/tmp/req
		timeout 20 gnutls-cli "$site.test" </tmp/req ;;
	tstclnt)
		# A regular file, not a pipe: tstclnt then exits at the server's close.
		printf 'GET / HTTP/1.0\r\nHost: %s.test\r\n\r\n' "$site" >/tmp/req
		timeout 20 tstclnt -h "$site.test" -p 443 -d sql:/etc/pki/nssdb </tmp/req ;;
	esac >"$out" 2>&1
}

# expect CLIENT SITE accept|refuse [TEXT]: TEXT must appear when refused.
expect() {
	c=$1 site=$2 want=$3 text=${4:-}
	client "$c" "$site"
	rc=$?
	hello=0
	grep -q "hello from $site" "$out" && hello=1
	# gnutls-cli: the verdict is its own status line (it reports the
	# server's close after the reply as an abnormal termination).
	if [ "$c" = gnutls-cli ]; then
		hello=0 rc=1
		if grep -q "Status: The certificate is trusted" "$out" && grep -q "Handshake was completed" "$out"; then hello=1 rc=0; fi
	fi
	if [ "$want" = accept ]; then
		if [ $rc -eq 0 ] && [ $hello = 1 ]; then ok "$c $site: accepted"; else bad "$c $site: refused (exit $rc), want accepted"; fi
	else
		if [ $hello = 1 ] || { [ $rc -eq 0 ] && [ "$c" != gnutls-cli ] && [ "$c" != tstclnt ]; }; then
			bad "$c $site: accepted (exit $rc), want refused"
		elif [ -n "$text" ] && ! grep -q -- "$text" "$out"; then
			bad "$c $site: refused (exit $rc) but without \"$text\""
		else
			ok "$c $site: refused${text:+ (\"$text\")}"
		fi
	fi
}

# The server and the mirror start in parallel with us.
i=0
until curl -fsS -o /dev/null "$mirror/manifest.json" 2>/dev/null &&
	python3 -c 'import socket; socket.create_connection(("good.test", 443), 2).close()' 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 60 ]; then echo "FAIL  server or mirror not reachable after 30s"; exit 1; fi
	sleep 0.5
done

echo "=== revocheck fetch --url $mirror/"
if revocheck fetch --url "$mirror/" >"$out" 2>&1; then ok "fetch: $(tail -n 2 "$out" | tr '\n' ' ')"; else bad "revocheck fetch"; fi

echo "=== revocheck status"
revocheck status 2>&1 | sed 's/^/      /'
for stack in openssl gnutls nss; do
	if revocheck status --json 2>/dev/null | python3 -c 'import json, sys
s = [a for a in json.load(sys.stdin)["adapters"] if a["stack"] == sys.argv[1]]
sys.exit(0 if s and s[0]["active"] else 1)' "$stack"; then
		ok "status: $stack active"
	else
		revocheck status --json >"$out" 2>&1
		bad "status: $stack not reported active"
	fi
done

clients="curl wget python3 gnutls-cli tstclnt"

echo "=== enabled system-wide"
for c in $clients; do
	expect "$c" good accept
	expect "$c" uncovered accept
	expect "$c" unenrolled accept
done
expect curl revoked refuse "certificate revoked"
expect wget revoked refuse "has been revoked"
expect python3 revoked refuse "certificate revoked"
expect gnutls-cli revoked refuse "revoked"
expect tstclnt revoked refuse "SEC_ERROR_UNTRUSTED_CERT"
expect curl crl-revoked refuse "certificate revoked"
expect python3 crl-revoked refuse "certificate revoked"
expect tstclnt crl-revoked refuse "SEC_ERROR_UNTRUSTED_CERT"
expect wget crl-revoked refuse "has been revoked"
expect gnutls-cli crl-revoked refuse "revoked"
expect curl revoked-int refuse "certificate revoked"
expect python3 revoked-int refuse "certificate revoked"
expect tstclnt revoked-int refuse "SEC_ERROR_UNTRUSTED_ISSUER"
expect wget revoked-int refuse "has been revoked"
expect gnutls-cli revoked-int refuse "revoked"

echo "=== revocheck disable openssl gnutls nss"
if revocheck disable openssl gnutls nss >"$out" 2>&1; then ok "disable"; else bad "disable"; fi
sed 's/^/      /' "$out"
for c in $clients; do
	expect "$c" revoked accept
	expect "$c" good accept
done
for stack in openssl gnutls; do
	if revocheck status --json 2>/dev/null | python3 -c 'import json, sys
s = [a for a in json.load(sys.stdin)["adapters"] if a["stack"] == sys.argv[1]]
sys.exit(0 if s and not s[0]["active"] else 1)' "$stack"; then
		ok "status: $stack no longer active"
	else
		revocheck status --json >"$out" 2>&1
		bad "status: $stack still reported active after disable"
	fi
done
if modutil -list -dbdir sql:/etc/pki/nssdb </dev/null 2>&1 | grep -q "revocheck"; then
	bad "nss: module still listed by modutil after disable"
else
	ok "nss: modutil no longer lists the module"
fi

echo "=== revocheck enable openssl gnutls nss (again)"
if revocheck enable openssl gnutls nss >"$out" 2>&1; then ok "enable"; else bad "enable"; fi
for c in $clients; do
	expect "$c" revoked refuse
done

echo "=== the check daemon answers, with librevocheck.so moved away"
# As revocheck-checkd.socket would run it (no systemd here): the default
# socket, the system configuration. With the library gone, a refused revoked
# site can only be the daemon's answer.
mkdir -p -m 0755 /run/revocheck
revocheck daemon >/tmp/daemon.log 2>&1 &
daemon_pid=$!
i=0
until [ -S /run/revocheck/check.sock ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.05; done
lib=$(ldconfig -p | awk '/librevocheck\.so\.0 /{print $NF; exit}')
lib=$(readlink -f "$lib")
if [ -S /run/revocheck/check.sock ] && [ -n "$lib" ] && mv "$lib" "$lib.away"; then
	ok "daemon listening; $lib moved away"
	for c in $clients; do
		expect "$c" good accept
		expect "$c" revoked refuse
	done
	expect tstclnt crl-revoked refuse "SEC_ERROR_UNTRUSTED_CERT"
	mv "$lib.away" "$lib"
else
	cp /tmp/daemon.log "$out"
	bad "daemon did not start (or librevocheck.so.0 not found: '$lib')"
fi
kill $daemon_pid 2>/dev/null
wait $daemon_pid 2>/dev/null

rm -f "$out"
echo "docker: $pass passed, $fail failed"
[ $fail -eq 0 ]
