#!/usr/bin/env bash
# curl-crlfile.sh [RUNS] [ENTRIES] — what administrators do today versus
# revocheck: `curl --crlfile` with a CRL of ENTRIES (default 1,000,000)
# revoked serials (OpenSSL parses the whole CRL in every process and checks
# it with X509_V_FLAG_CRL_CHECK) against curl with the revocheck provider,
# and plain curl for reference. Alternating runs; prints medians and ratios.
#
# Needs `make all` and Go (to build bench/crlgen). 127.0.0.1 only.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init curl-crlfile
RUNS=${1:-20}
ENTRIES=${2:-1000000}

for f in "$B/lib/revocheck-openssl.so" "$B/lib/librevocheck.so.0"; do
	[[ -f $f ]] || { echo "curl-crlfile: $f missing; run make all" >&2; exit 1; }
done

bench_sites

cat >"$W/openssl.cnf" <<CNF
.include $ROOT/openssl-provider/revocheck-openssl.cnf
[ revocheck_sect ]
module = $B/lib/revocheck-openssl.so
cache-dir = $CACHE_DIR
CNF

# The intermediate's CRL: ENTRIES random serials plus the revoked leaf.
# The daemon variant: the provider asks `revocheck daemon` (librevocheck.so
# made unloadable, so only the daemon can answer).
bench_daemon "$CACHE_DIR"
cat >"$W/openssl-daemon.cnf" <<CNF
.include $ROOT/openssl-provider/revocheck-openssl.cnf
[ revocheck_sect ]
module = $B/lib/revocheck-openssl.so
library = $W/no-library-here.so
unavailable = deny
socket = $DAEMON_SOCK
CNF
export REVOCHECK_SOCKET=none # the in-process variant stays in-process

go build -o "$W/crlgen" ./bench/crlgen
t0=$(date +%s%N)
"$W/crlgen" -ca "$PKI_DIR/int.pem" -key "$PKI_DIR/int.key.pem" -n "$ENTRIES" \
	-include "$PKI_DIR/revoked.pem" -out "$W/big.crl.pem"
t1=$(date +%s%N)
# curl --crlfile sets X509_V_FLAG_CRL_CHECK_ALL: the root's CRL (for the
# intermediate) must be in the same file.
openssl crl -inform DER -in "$PKI_DIR/root.crl" >>"$W/big.crl.pem"
echo "CRL: $ENTRIES entries, $(du -h "$W/big.crl.pem" | cut -f1) PEM, generated in $(((t1 - t0) / 1000000)) ms"

# Sanity: both mechanisms refuse the revoked leaf and accept the good one.
check() { # name expect(0|fail) cmd...
	local name=$1 expect=$2; shift 2
	if "$@" >/dev/null 2>&1; then got=0; else got=fail; fi
	[[ $got == "$expect" ]] || { echo "curl-crlfile: sanity check '$name' failed (got $got)" >&2; exit 1; }
}
check "crlfile refuses revoked" fail curl -sS -o /dev/null --cacert "$ROOT_PEM" --crlfile "$W/big.crl.pem" "$SITE_REVOKED_URL"
check "crlfile accepts good" 0 curl -sS -o /dev/null --cacert "$ROOT_PEM" --crlfile "$W/big.crl.pem" "$SITE_GOOD_URL"
check "provider refuses revoked" fail env OPENSSL_CONF="$W/openssl.cnf" curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_REVOKED_URL"
check "provider accepts good" 0 env OPENSSL_CONF="$W/openssl.cnf" curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_GOOD_URL"
check "daemon refuses revoked" fail env OPENSSL_CONF="$W/openssl-daemon.cnf" curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_REVOKED_URL"
check "daemon accepts good" 0 env OPENSSL_CONF="$W/openssl-daemon.cnf" curl -sS -o /dev/null --cacert "$ROOT_PEM" "$SITE_GOOD_URL"

echo "curl $(curl --version | head -1 | cut -d' ' -f2), $(openssl version), $(nproc) CPUs, $RUNS runs each, alternating, fetching the good site"
python3 - "$RUNS" "$W/openssl.cnf" "$ROOT_PEM" "$SITE_GOOD_URL" "$W/big.crl.pem" "$W/openssl-daemon.cnf" <<'PY'
import os, statistics, subprocess, sys, time
runs, conf, root, url, crl, dconf = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
base = {k: v for k, v in os.environ.items() if k != "OPENSSL_CONF"}
cmd = ["curl", "-sS", "-o", "/dev/null", "--cacert", root, url]
variants = {
    "plain curl": (cmd, base),
    "curl --crlfile": (cmd[:-1] + ["--crlfile", crl, url], base),
    "curl + provider": (cmd, dict(base, OPENSSL_CONF=conf)),
    "curl + daemon": (cmd, dict(base, OPENSSL_CONF=dconf)),
}
times = {k: [] for k in variants}
rss = {k: 0 for k in variants}  # peak resident set of one curl process, KiB
for i in range(runs + 2):
    names = list(variants)
    names = names[i % len(names):] + names[:i % len(names)]  # rotate the order
    for name in names:
        argv, env = variants[name]
        t0 = time.perf_counter_ns()
        p = subprocess.Popen(argv, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        dt = time.perf_counter_ns() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            sys.exit("%s failed with %d" % (name, p.returncode))
        if i >= 2:
            times[name].append(dt / 1e6)
            rss[name] = max(rss[name], ru.ru_maxrss)
for name, ts in times.items():
    print("%-16s median %9.2f ms   min %9.2f   max %9.2f   peak RSS %7.1f MiB" % (name, statistics.median(ts), min(ts), max(ts), rss[name] / 1024))
m = {k: statistics.median(v) for k, v in times.items()}
print("crlfile / provider: %.1fx slower" % (m["curl --crlfile"] / m["curl + provider"]))
print("provider / plain:   %.3f" % (m["curl + provider"] / m["plain curl"]))
print("crlfile / daemon: %.1fx slower" % (m["curl --crlfile"] / m["curl + daemon"]))
PY
