#!/bin/sh
# Docker integration tests (`make docker-test`): revocheck installed the way
# a distribution installs it, proven with plain clients on a private network.
#
#   1. base image revocheck-base:bookworm: debootstrap + docker import, no
#      registry (docker/build-base.sh; cached, ~1-3 minutes the first time)
#   2. `make install DESTDIR=stage PREFIX=/usr LIBDIR=/usr/lib/<multiarch>`
#      from this build, copied into the base; `revocheck enable openssl`,
#      `enable gnutls`, `enable nss` run inside (docker/setup-suite.sh)
#   3. the test PKI and its revocation data from build/bin/revocheck-testsites
#   4. on an internal Docker network: a TLS server container (every site on
#      :443 by SNI: good.test, revoked.test, ...), a mirror container
#      (`revocheck serve` of the data), and a client container running
#      docker/client-tests.sh: `revocheck fetch`, then curl, wget, python3,
#      gnutls-cli and tstclnt with no extra flags, then `revocheck disable`
#   5. the Debian source package (debian/) built with dpkg-buildpackage in
#      a builder image (the base + build dependencies from Debian's mirror),
#      offline (vendored modules, no network), checked with lintian
#   6. that .deb installed with dpkg into a fresh base container, enabled,
#      removed and purged: the maintainer scripts leave /etc as it was
#      (docker/deb-test.sh).
#
# With no engine: exits 1 naming the command to install or start one when
# REVOCHECK_REQUIRE_ALL=1 (make test sets it), else prints "SKIPPED" and
# "docker-test: 0 passed, 0 failed, 1 skipped" and exits 0.
# Exits non-zero on any wrong verdict. KEEP=1 keeps the containers.
set -eu

cd "$(dirname "$0")/.."
no_engine() {
	if [ "${REVOCHECK_REQUIRE_ALL:-0}" = 1 ]; then
		echo "FAIL  docker tests: $1; run: $2 (REVOCHECK_REQUIRE_ALL=1: make test runs the Docker tests)" >&2
		echo "docker-test: 0 passed, 1 failed, 0 skipped"
		exit 1
	fi
	echo "SKIPPED: $1 (docker/run-tests.sh did not run); run: $2"
	echo "docker-test: 0 passed, 0 failed, 1 skipped"
	exit 0
}
if ! command -v docker >/dev/null 2>&1; then
	no_engine "no docker command" "apt-get install docker.io"
fi
if ! timeout 30 docker info >/dev/null 2>&1; then
	no_engine "the docker engine is not running" "systemctl start docker (or dockerd &)"
fi

t0=$(date +%s)
step() { echo "=== [$(( $(date +%s) - t0 ))s] $*"; }

base=${REVOCHECK_BASE_IMAGE:-revocheck-base:bookworm}
# The base plus what building the Debian source package needs.
builder=${REVOCHECK_BUILDER_IMAGE:-revocheck-builder:bookworm}
builder_packages="build-essential debhelper lintian pkg-config libssl-dev libgnutls28-dev libnss3-dev fakeroot"
tag=revocheck-dt-$$
suite=$tag-suite:latest
net=$tag-net
work=$(mktemp -d /tmp/revocheck-docker.XXXXXX)
ts_pid=

cleanup() {
	rc=$?
	if [ -n "$ts_pid" ]; then kill "$ts_pid" 2>/dev/null || true; fi
	if [ "${KEEP:-0}" != 1 ]; then
		docker rm -f "$tag-server" "$tag-mirror" "$tag-client" "$tag-build" "$tag-deb" "$tag-pkg" "$tag-mkbuilder" >/dev/null 2>&1 || true
		docker network rm "$net" >/dev/null 2>&1 || true
		docker image rm "$suite" >/dev/null 2>&1 || true
	else
		echo "KEEP=1: containers $tag-*, network $net, image $suite left in place"
	fi
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "base image $base"
docker/build-base.sh "$base"

step "make install into a staging tree"
multiarch=$( (gcc -print-multiarch || dpkg-architecture -qDEB_HOST_MULTIARCH) 2>/dev/null | head -n 1)
: "${multiarch:=x86_64-linux-gnu}"
${MAKE:-make} --no-print-directory install DESTDIR="$work/stage" PREFIX=/usr LIBDIR="/usr/lib/$multiarch" \
	sysconfdir=/etc >"$work/install.log" 2>&1 || {
	tail -n 30 "$work/install.log"
	echo "docker tests: make install failed"
	exit 1
}
(cd "$work/stage" && find . -type f -o -type l | sort | sed 's/^\./  /')

step "test PKI and revocation data (revocheck-testsites)"
build/bin/revocheck-testsites --dir "$work/sites" >"$work/testsites.log" 2>&1 &
ts_pid=$!
i=0
until [ -s "$work/sites/sites.env" ]; do
	i=$((i + 1))
	if [ $i -gt 240 ] || ! kill -0 "$ts_pid" 2>/dev/null; then
		cat "$work/testsites.log"
		echo "docker tests: revocheck-testsites did not write sites.env"
		exit 1
	fi
	sleep 0.25
done
# Only its files are needed: the servers run in the containers.
kill "$ts_pid"
wait "$ts_pid" 2>/dev/null || true
ts_pid=
# The mirror tree: the cache minus the locally derived index.
mkdir -p "$work/mirror"
cp "$work/sites/cache/manifest.json" "$work/mirror/"
for f in $(python3 -c 'import json, sys
print(" ".join(e["filename"] for e in json.load(open(sys.argv[1]))["files"]))' "$work/sites/cache/manifest.json"); do
	cp "$work/sites/cache/$f" "$work/mirror/"
done
if [ -d "$work/sites/cache/crlsets" ]; then cp -r "$work/sites/cache/crlsets" "$work/mirror/"; fi

step "suite image $suite (staged install + revocheck enable ...)"
docker create --name "$tag-build" "$base" sleep 600 >/dev/null
docker cp "$work/stage/." "$tag-build:/"
docker cp "$work/sites/pki/root.pem" "$tag-build:/usr/local/share/ca-certificates/revocheck-test-root.crt"
docker cp docker/setup-suite.sh "$tag-build:/usr/local/sbin/revocheck-setup-suite"
docker cp docker/client-tests.sh "$tag-build:/usr/local/bin/revocheck-client-tests"
docker start "$tag-build" >/dev/null
if ! docker exec "$tag-build" sh /usr/local/sbin/revocheck-setup-suite >"$work/setup.log" 2>&1; then
	sed 's/^/  /' "$work/setup.log"
	echo "docker tests: setting up the suite image failed"
	exit 1
fi
sed 's/^/  /' "$work/setup.log"
docker stop -t 1 "$tag-build" >/dev/null
docker commit --change 'CMD ["/bin/bash"]' "$tag-build" "$suite" >/dev/null
docker rm "$tag-build" >/dev/null

step "containers on the internal network $net"
docker network create --internal "$net" >/dev/null
aliases=
for s in good revoked uncovered unenrolled revoked-int crl-revoked; do
	aliases="$aliases --network-alias $s.test --network-alias $s.revocheck.test"
done
# shellcheck disable=SC2086 # word splitting of $aliases is intended
docker create --name "$tag-server" --network "$net" $aliases "$base" \
	python3 /srv/tls-server.py /srv/pki 443 >/dev/null
docker cp docker/tls-server.py "$tag-server:/srv/tls-server.py"
docker cp "$work/sites/pki" "$tag-server:/srv/pki"
docker start "$tag-server" >/dev/null

docker create --name "$tag-mirror" --network "$net" --network-alias mirror "$suite" \
	revocheck serve --dir /srv/mirror --listen 0.0.0.0:8080 >/dev/null
docker cp "$work/mirror" "$tag-mirror:/srv/mirror"
docker start "$tag-mirror" >/dev/null

step "client tests"
set +e
docker run --name "$tag-client" --network "$net" "$suite" revocheck-client-tests http://mirror:8080/ >"$work/client.log" 2>&1
rc=$?
cat "$work/client.log"
set -e
if [ $rc -ne 0 ]; then
	echo "--- server log"
	docker logs "$tag-server" 2>&1 | tail -n 20
	echo "--- mirror log"
	docker logs "$tag-mirror" 2>&1 | tail -n 20
fi

step "the Debian source package: dpkg-buildpackage and lintian in $builder"
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
deb=revocheck_$(cat VERSION)_$arch.deb
# Every file git knows (committed or new, not ignored), as a packager's
# unpacked source would hold it, vendored so that the build is offline.
mkdir -p "$work/pkg/src"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -C "$work/pkg/src" -xf -
if ! (cd "$work/pkg/src" && go mod vendor) >"$work/pkg.log" 2>&1; then
	cat "$work/pkg.log"; echo "FAIL  go mod vendor"; rc=1
fi
# The builder is the base plus Debian's build dependencies, installed with
# apt-get from the mirror the base came from (cached like the base).
if ! docker image inspect "$builder" >/dev/null 2>&1; then
	docker rm -f "$tag-mkbuilder" >/dev/null 2>&1 || true
	if docker run --name "$tag-mkbuilder" "$base" sh -c "apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $builder_packages" \
		>"$work/builder.log" 2>&1; then
		docker commit --change 'CMD ["/bin/bash"]' "$tag-mkbuilder" "$builder" >/dev/null
	else
		tail -n 20 "$work/builder.log"
	fi
	docker rm -f "$tag-mkbuilder" >/dev/null 2>&1 || true
fi
# Go 1.26 is not a Debian package yet: the host's /usr/local/go, read-only.
docker create --name "$tag-pkg" --network none -v /usr/local/go:/usr/local/go:ro "$builder" \
	sh -c 'cd /pkg/src && dpkg-buildpackage -us -uc -b && lintian --fail-on error ../*.changes' >/dev/null
docker cp "$work/pkg/." "$tag-pkg:/pkg"
if docker start -a "$tag-pkg" >>"$work/pkg.log" 2>&1 && docker cp "$tag-pkg:/pkg/$deb" "$work/$deb"; then
	grep -E '^(dpkg-deb: building|[EW]: )' "$work/pkg.log" | sed 's/^/  /'
	echo "ok    dpkg-buildpackage -us -uc -b and lintian --fail-on error"
	echo "docker pkg: 1 passed, 0 failed" >"$work/pkg-test.log"
else
	tail -n 40 "$work/pkg.log"
	echo "FAIL  dpkg-buildpackage / lintian (log above)"
	echo "docker pkg: 0 passed, 1 failed" >"$work/pkg-test.log"
	rc=1
fi
docker rm -f "$tag-pkg" >/dev/null 2>&1 || true

step "the .deb: dpkg -i, revocheck enable all, dpkg -r, dpkg -P in a fresh base container"
if [ -f "$work/$deb" ]; then
	docker create --name "$tag-deb" "$base" sh /tmp/deb-test.sh >/dev/null
	docker cp "$work/$deb" "$tag-deb:/tmp/revocheck.deb"
	docker cp docker/deb-test.sh "$tag-deb:/tmp/deb-test.sh"
	docker start -a "$tag-deb" >"$work/deb-test.log" 2>&1 || rc=1
	cat "$work/deb-test.log"
	docker rm -f "$tag-deb" >/dev/null 2>&1 || true
else
	echo "FAIL  no .deb to install" | tee -a "$work/deb-test.log"
	rc=1
fi
step "done (exit $rc)"
# One closing line for CI: the verdicts of both parts.
cat "$work/client.log" "$work/pkg-test.log" "$work/deb-test.log" 2>/dev/null | awk '
	/^docker[a-z ]*: [0-9]+ passed, [0-9]+ failed$/ { p += $(NF-3); f += $(NF-1) }
	/^ok    / { seen++ }
	END { if (seen + f == 0) f = 1; printf "docker-test: %d passed, %d failed, 0 skipped\n", p, f }'
exit $rc
