#!/usr/bin/env bash
# Checks (and, as root on Debian, installs) what building and testing
# revocheck needs. Says exactly what is missing otherwise.
set -euo pipefail

# Debian packages: build tools, the three TLS stacks' headers, and the real
# clients the integration tests drive.
# Every program or library a test names in harness.Require / harness.Missing
# (integration/harness/require.go) is here: under `make test` a missing one
# is a failure, not a skip.
PKGS=(build-essential gcc g++ make binutils pkg-config ca-certificates
      libssl-dev openssl curl libcurl4-openssl-dev
      libgnutls28-dev gnutls-bin wget libcurl3-gnutls
      libnss3-dev libnss3-tools libcurl3-nss p11-kit p11-kit-modules
      python3 procps util-linux
      systemd       # systemd-socket-activate (the daemon's socket activation test)
      firefox-esr   # the NSS module's test in a real headless browser
      debootstrap)  # the Docker tests' base image
# The Docker tests need an engine; any docker on PATH will do, else Debian's.
command -v docker >/dev/null 2>&1 || PKGS+=(docker.io)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "deps: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/revocheck-apt.log 2>&1 || {
			apt-get update >/tmp/revocheck-apt.log 2>&1
			apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/revocheck-apt.log 2>&1
		} || { echo "deps: apt-get failed, see /tmp/revocheck-apt.log" >&2; exit 1; }
	else
		echo "deps: missing Debian packages: ${missing[*]}" >&2
		echo "deps: run as root: apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi

if ! command -v go >/dev/null; then
	if [[ -x /usr/local/go/bin/go ]]; then
		echo "deps: Go is in /usr/local/go/bin but not on PATH; run: export PATH=\$PATH:/usr/local/go/bin" >&2
	else
		echo "deps: Go $(sed -n 's/^go //p' go.mod) or newer is required: https://go.dev/dl/ (unpack into /usr/local/go)" >&2
	fi
	exit 1
fi
exit 0
