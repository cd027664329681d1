#!/bin/sh
# Runs inside a fresh base container with the .deb at /tmp/revocheck.deb:
# the package's maintainer scripts, as dpkg runs them. Install, enable every
# stack, remove: nothing of revocheck may stay in the system configuration.
set -u
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok    $*"; }
bad() { fail=$((fail + 1)); echo "FAIL  $*"; }
cp /etc/ssl/openssl.cnf /tmp/openssl.cnf.orig

if dpkg -i /tmp/revocheck.deb >/tmp/log 2>&1; then ok "dpkg -i"; else cat /tmp/log; bad "dpkg -i"; fi
[ -d /var/cache/revocheck ] && ok "postinst made /var/cache/revocheck" || bad "no /var/cache/revocheck"
getent passwd revocheck >/dev/null && ok "postinst made the revocheck user" || bad "no revocheck user"
for u in revocheck-fetch.timer revocheck-checkd.socket revocheck-checkd.service; do
	f=$(dpkg -L revocheck | grep "/systemd/system/$u\$")
	[ -n "$f" ] && ok "unit $u installed" || bad "unit $u not in the package"
done
grep -q "^ExecStart=/usr/bin/revocheck daemon\$" "$(dpkg -L revocheck | grep '/revocheck-checkd.service$')" 2>/dev/null &&
	ok "revocheck-checkd.service runs /usr/bin/revocheck daemon" || bad "revocheck-checkd.service ExecStart"
revocheck config >/tmp/log 2>&1 && grep -q "/etc/revocheck/config.toml" /tmp/log &&
	ok "revocheck config reads /etc/revocheck/config.toml" || { cat /tmp/log; bad "revocheck config"; }
if revocheck enable all >/tmp/log 2>&1; then ok "revocheck enable all"; else cat /tmp/log; bad "enable all"; fi
grep -q "^\.include /etc/ssl/revocheck-openssl.cnf" /etc/ssl/openssl.cnf && ok "openssl.cnf includes the snippet" || bad "openssl.cnf"
grep -q librevocheck-gnutls /etc/ld.so.preload && ok "ld.so.preload" || bad "ld.so.preload"
grep -q "name=revocheck" /etc/pki/nssdb/pkcs11.txt && ok "NSS module registered" || bad "nss"

if dpkg -r revocheck >/tmp/log 2>&1; then ok "dpkg -r"; else cat /tmp/log; bad "dpkg -r"; fi
cmp -s /etc/ssl/openssl.cnf /tmp/openssl.cnf.orig && ok "openssl.cnf back to the original" || bad "openssl.cnf differs after removal"
[ ! -e /etc/ld.so.preload ] && ok "ld.so.preload gone" || bad "ld.so.preload left: $(cat /etc/ld.so.preload)"
! grep -q "name=revocheck" /etc/pki/nssdb/pkcs11.txt && ok "NSS module unregistered" || bad "nss module still registered"
# Every program still starts cleanly (no broken preload, openssl works).
out=$(openssl version 2>&1) && [ "${out#OpenSSL}" != "$out" ] && ok "openssl runs cleanly: $out" || bad "openssl: $out"
[ ! -e /usr/bin/revocheck ] && ok "files removed" || bad "/usr/bin/revocheck left"
echo "docker deb: $pass passed, $fail failed"
[ $fail -eq 0 ]
