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
      python3 procps util-linux iproute2
      git           # git over libcurl-gnutls (integration/intermediates_test.go)
      nginx-light   # the fleet path: a mirror tree served by nginx (integration/nginx_test.go)
      systemd       # systemd-socket-activate (the daemon's socket activation test)
      firefox-esr   # the NSS module's test in a real headless browser
      dpkg-dev debhelper lintian   # the Docker tests build debian/ and lint it
      debootstrap)  # the Docker tests' base image
# The Docker tests need an engine; any docker on PATH will do, else Debian's.
command -v docker >/dev/null 2>&1 || PKGS+=(docker.io)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# Another apt or dpkg (unattended-upgrades, a second `make`) may hold the
# package locks: wait for it, at most APT_LOCK_WAIT seconds, saying so.
APT_LOCK_WAIT=${APT_LOCK_WAIT:-600}
APT_OPTS=(-o "DPkg::Lock::Timeout=$APT_LOCK_WAIT")

# lock_holder FILE prints the pid holding a POSIX lock on FILE (from
# /proc/locks, so nothing is taken, and no tool beyond coreutils is needed).
lock_holder() {
	local id
	[[ -e $1 ]] || return 1
	id=$(stat -L -c '%Hd %Ld %i' "$1" | { read -r ma mi ino; printf '%02x:%02x:%s' "$ma" "$mi" "$ino"; })
	awk -v id="$id" '$2 != "->" && $6 == id { print $5; found = 1; exit } END { exit !found }' /proc/locks
}

wait_for_apt() {
	local f pid waited=0
	for f in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock; do
		while pid=$(lock_holder "$f"); do
			if ((waited == 0)); then
				echo "deps: another package manager (pid $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)) holds $f;" \
					"waiting up to ${APT_LOCK_WAIT}s (APT_LOCK_WAIT)" >&2
			fi
			if ((waited >= APT_LOCK_WAIT)); then
				echo "deps: $f still held by pid $pid after ${APT_LOCK_WAIT}s; run make again once it has finished" >&2
				exit 1
			fi
			sleep 5
			waited=$((waited + 5))
		done
	done
	((waited == 0)) || echo "deps: the lock is free after ${waited}s" >&2
}

if ((${#missing[@]})); then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "deps: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		wait_for_apt
		apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${missing[@]}" >/tmp/revocheck-apt.log 2>&1 || {
			wait_for_apt
			apt-get "${APT_OPTS[@]}" update >>/tmp/revocheck-apt.log 2>&1
			wait_for_apt
			apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${missing[@]}" >>/tmp/revocheck-apt.log 2>&1
		} || { echo "deps: apt-get failed, see /tmp/revocheck-apt.log" >&2; tail -n 5 /tmp/revocheck-apt.log >&2; exit 1; }
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
