#!/bin/sh
# Builds build/revocheck_VERSION_ARCH.deb with dpkg-deb from a staged
# `make install` (Debian paths: PREFIX=/usr, multiarch LIBDIR, /etc).
# One binary package holding everything; a distribution would split it
# (docs/PACKAGING.md lists the files per package).
#
#   packaging/mkdeb.sh VERSION ARCH BUILD_DIR      (`make deb` runs it)
set -eu
version=$1 arch=$2 build=$3
multiarch=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
out=$build/deb
root=$out/root
rm -rf "$out"
mkdir -p "$root/DEBIAN"
${MAKE:-make} --no-print-directory install DESTDIR="$(cd "$root" && pwd)" PREFIX=/usr LIBDIR="/usr/lib/$multiarch" \
	sysconfdir=/etc >"$out/install.log" 2>&1 || { cat "$out/install.log"; exit 1; }
# Development files (headers, pkg-config, the unversioned symlink) belong in
# a -dev package; kept here so that one .deb can build against the library.

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CTL
Package: revocheck
Version: $version
Architecture: $arch
Maintainer: revocheck maintainers <revocheck@users.noreply.github.com>
Installed-Size: $size
Depends: libc6 (>= 2.34), libssl3 | libssl3t64, libgnutls30 | libgnutls30t64
Recommends: libnss3-tools, ca-certificates
Suggests: p11-kit
Section: net
Priority: optional
Homepage: https://github.com/revocheck/revocheck
Description: certificate revocation checking for every TLS client
 revocheck keeps a local cache of Mozilla's CRLite revocation data (the C2SP
 upki-revocation format) and plugs it into OpenSSL (a provider), GnuTLS (a
 verify hook) and NSS (a PKCS#11 trust module), so that curl, wget, python,
 git and browsers refuse revoked certificates without any per-program
 configuration. Enable it per TLS stack with "revocheck enable".
CTL

# Conffiles: dpkg keeps the administrator's changes on upgrade.
printf '%s\n' /etc/revocheck/config.toml /etc/ssl/revocheck-openssl.cnf >"$root/DEBIAN/conffiles"

cat >"$root/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	# The system user of revocheck-fetch.service and its cache directory,
	# readable by every process that checks revocation.
	if [ -d /run/systemd/system ] && command -v systemd-sysusers >/dev/null 2>&1; then
		systemd-sysusers revocheck.conf
		systemd-tmpfiles --create revocheck.conf
	else
		getent passwd revocheck >/dev/null 2>&1 ||
			adduser --system --group --home /var/cache/revocheck --no-create-home \
				--gecos "revocheck cache sync" revocheck >/dev/null 2>&1 ||
			useradd --system --user-group --home-dir /var/cache/revocheck --shell /usr/sbin/nologin revocheck
		install -d -m 0755 -o revocheck -g revocheck /var/cache/revocheck
	fi
	ldconfig
	# Keep the cache fresh: the timer runs `revocheck fetch` every 6 hours.
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload
		systemctl enable --now revocheck-fetch.timer >/dev/null 2>&1 || true
		# The check daemon starts on the first check; without it the
		# adapters check in-process.
		systemctl enable --now revocheck-checkd.socket >/dev/null 2>&1 || true
	fi
	# Turning a TLS stack on is the administrator's decision:
	#   revocheck enable openssl|gnutls|nss
fi
exit 0
SH

cat >"$root/DEBIAN/prerm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = deconfigure ]; then
	# Undo every `revocheck enable` before the libraries go: an
	# ld.so.preload entry naming a missing file warns in every process.
	revocheck disable all || true
	if [ -d /run/systemd/system ]; then
		systemctl disable --now revocheck-fetch.timer >/dev/null 2>&1 || true
		systemctl disable --now revocheck-checkd.socket revocheck-checkd.service >/dev/null 2>&1 || true
	fi
fi
exit 0
SH

cat >"$root/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
case "$1" in
remove)
	ldconfig
	[ -d /run/systemd/system ] && systemctl daemon-reload || true
	;;
purge)
	# The *.revocheck-backup copies of system files stay: they are the
	# administrator's originals.
	rm -rf /var/cache/revocheck
	# Written by `revocheck disable nss` (its first line says so) to keep
	# p11-kit from loading the module; any other file there is the
	# administrator's own.
	f=/etc/pkcs11/modules/revocheck.module
	if [ -f "$f" ] && head -n 1 "$f" | grep -qF '# Written by `revocheck disable nss`'; then
		rm -f "$f"
	fi
	;;
esac
exit 0
SH
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

deb=$build/revocheck_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "built $deb ($(du -k "$deb" | cut -f1) KiB)"
