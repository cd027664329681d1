#!/bin/sh
# make repro-check: two clean builds of the committed HEAD, cloned into two
# directories of different path lengths, the second with an empty Go build
# cache, must give identical bytes for every artefact (build/bin/*,
# build/lib/*.so*, headers, pkg-config files). Uncommitted changes are not
# part of it: commit first. Prints both checksum lists' differences on failure.
set -eu
cd "$(dirname "$0")/.."
rev=$(git rev-parse HEAD)
work=$(mktemp -d /tmp/revocheck-repro.XXXXXX)
trap 'rm -rf "$work"' EXIT
a=$work/a
b=$work/second/build-tree/of/revocheck
for d in "$a" "$b"; do
	mkdir -p "$d"
	git clone -q --shared --no-checkout . "$d"
	git -C "$d" checkout -q "$rev"
done
echo "repro-check: building $rev in $a"
${MAKE:-make} -C "$a" --no-print-directory all >"$work/a.log" 2>&1 || { tail -n 30 "$work/a.log"; exit 1; }
echo "repro-check: building $rev in $b (empty Go build cache)"
GOCACHE=$work/gocache ${MAKE:-make} -C "$b" --no-print-directory all >"$work/b.log" 2>&1 || { tail -n 30 "$work/b.log"; exit 1; }
sums() { (cd "$1" && sha256sum build/bin/* build/lib/*.so* build/include/*.h build/lib/pkgconfig/*.pc); }
sums "$a" >"$work/a.sum"
sums "$b" >"$work/b.sum"
if diff -u "$work/a.sum" "$work/b.sum"; then
	sed 's/^/  /' "$work/a.sum"
	echo "repro-check: $(wc -l <"$work/a.sum") artefacts byte-identical"
else
	echo "repro-check: FAIL, the builds differ (above)"
	exit 1
fi
