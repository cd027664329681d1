#!/bin/sh
# Builds the Docker base image revocheck-base:bookworm with no container
# registry: a minimal Debian bookworm root made by debootstrap from the
# Debian mirror this machine's apt already uses, then `docker import`ed.
# Skipped when the image exists (REBUILD_BASE=1 forces a rebuild).
#
#   docker/build-base.sh [IMAGE]
#
# DEBIAN_MIRROR overrides the mirror; BASE_WORKDIR is where the scratch
# directory is made (default /tmp; the root needs ~400 MB).
set -eu

image=${1:-revocheck-base:bookworm}
packages=ca-certificates,curl,wget,python3,gnutls-bin,libnss3-tools,libssl3,libgnutls30,libnss3,openssl,p11-kit

if [ "${REBUILD_BASE:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
	echo "base image $image exists (REBUILD_BASE=1 rebuilds it)"
	exit 0
fi

# The mirror the host's apt is configured with (deb822 or one-line style).
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }')
fi
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\// && $i !~ /security/) { print $i; exit } }')
fi
if [ -z "$mirror" ]; then
	echo "build-base: no Debian mirror found in /etc/apt; set DEBIAN_MIRROR" >&2
	exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1; then
	echo "build-base: installing debootstrap"
	if [ "$(id -u)" = 0 ]; then s=; else s=sudo; fi
	$s apt-get update -qq && $s apt-get install -y -qq debootstrap >/dev/null
fi

work=$(mktemp -d "${BASE_WORKDIR:-/tmp}/revocheck-base.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
root=$work/rootfs

old_id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
start=$(date +%s)
echo "build-base: debootstrap bookworm from $mirror into $root"
if [ "$(id -u)" = 0 ]; then s=; else s=sudo; fi
$s debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
	tail -n 30 "$work/debootstrap.log" >&2
	echo "build-base: debootstrap failed (log above)" >&2
	exit 1
}
# Keep the image small: package lists and downloaded .debs are not needed.
$s rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
echo "build-base: importing as $image"
$s tar -C "$root" -c . | docker import \
	--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'ENV LANG=C.UTF-8' \
	--change 'CMD ["/bin/bash"]' - "$image" >/dev/null
$s rm -rf "$root"
# A rebuild leaves the previous image untagged: drop it.
if [ -n "$old_id" ]; then docker image rm "$old_id" >/dev/null 2>&1 || true; fi
echo "build-base: $image built in $(( $(date +%s) - start ))s"
