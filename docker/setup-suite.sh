#!/bin/sh
# Runs inside the suite image while it is built, after the tree staged by
# `make install DESTDIR=...` has been copied to /: what a distribution's
# maintainer scripts do (docs/PACKAGING.md), then trusting the test PKI's
# root the way an administrator trusts a private CA.
set -eu

ldconfig

# postinst: the cache directory (tmpfiles.d would make it under systemd).
install -d -m 0755 /var/cache/revocheck

# The administrator's decision, exactly as documented: one command per stack.
revocheck enable openssl
revocheck enable gnutls
revocheck enable nss

# The test root: system trust store (OpenSSL, GnuTLS) and the system NSS DB.
update-ca-certificates >/dev/null
certutil -A -d sql:/etc/pki/nssdb -n "revocheck test root" -t "C,," \
	-i /usr/local/share/ca-certificates/revocheck-test-root.crt

echo "--- /etc/ssl/openssl.cnf (tail)"
tail -n 4 /etc/ssl/openssl.cnf
echo "--- /etc/ld.so.preload"
cat /etc/ld.so.preload
echo "--- modutil -list"
modutil -list -dbdir sql:/etc/pki/nssdb </dev/null | sed -n '1,40p'
