"""Connect, fork, connect again in the child: both must finish.

usage: fork.py ROOT GOOD_URL REVOKED_URL
The parent's first connection starts revocheck (the Go runtime); the child
inherits a dead runtime and must get the "unavailable" policy instead of
hanging. Each process prints its results; the child's exit status is
reported by the parent.
"""
import os
import ssl
import sys
import urllib.request

root, good, revoked = sys.argv[1:4]


def fetch(url):
    ctx = ssl.create_default_context(cafile=root)
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=20) as r:
            return "ok " + r.read().decode().strip()
    except Exception as e:
        return "error " + str(e)


print("parent good:", fetch(good), flush=True)
print("parent revoked:", fetch(revoked), flush=True)
pid = os.fork()
if pid == 0:
    print("child good:", fetch(good), flush=True)
    print("child revoked:", fetch(revoked), flush=True)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("parent after fork revoked:", fetch(revoked), flush=True)
print("child exit status:", status, flush=True)
