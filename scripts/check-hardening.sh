#!/bin/sh
# make hardening-check (part of make test): a packager's hardening flags
# reach every shipped shared object. Builds the product into a scratch
# directory with
#   CPPFLAGS=-D_FORTIFY_SOURCE=2  LDFLAGS/CGO_LDFLAGS=-Wl,-z,relro -Wl,-z,now
# and checks each build/lib/*.so and build/bin/revocheck for BIND_NOW and a
# GNU_RELRO segment (readelf). Ends with "hardening-check: N passed, N failed, 0 skipped".
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/revocheck-hardening.XXXXXX)
trap 'rm -rf "$work"' EXIT
hard='-Wl,-z,relro -Wl,-z,now'
if ! ${MAKE:-make} --no-print-directory BUILD="$work/build" CPPFLAGS=-D_FORTIFY_SOURCE=2 \
	LDFLAGS="$hard" CGO_LDFLAGS="$hard" all >"$work/log" 2>&1; then
	tail -n 30 "$work/log"
	echo "FAIL  hardening-check: the build with hardening flags failed"
	echo "hardening-check: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
pass=0 fail=0
for so in "$work"/build/lib/*.so "$work"/build/bin/revocheck; do
	[ -L "$so" ] && continue
	name=${so##*/}
	missing=
	readelf -d "$so" | grep -q BIND_NOW || missing="$missing BIND_NOW(-z now)"
	readelf -lW "$so" | grep -q GNU_RELRO || missing="$missing GNU_RELRO(-z relro)"
	if [ -z "$missing" ]; then
		echo "ok    hardening $name: BIND_NOW, GNU_RELRO"
		pass=$((pass + 1))
	else
		echo "FAIL  hardening $name: missing$missing (LDFLAGS/CGO_LDFLAGS did not reach its link)"
		fail=$((fail + 1))
	fi
done
if [ $((pass + fail)) -eq 0 ]; then
	echo "FAIL  hardening-check: nothing built"
	fail=1
fi
echo "hardening-check: $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
