"""A long-running host process that keeps checking while its cache changes.

usage: loop.py ROOT MARKER SECONDS URL...
Fetches every URL in turn for SECONDS; after the first round it creates
MARKER (the test then damages the cache). Prints "rounds=N" and, per URL,
the last answer; exits 0 unless the process itself fails.
"""
import ssl
import sys
import time
import urllib.request

root, marker, seconds, urls = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]


def fetch(url):
    ctx = ssl.create_default_context(cafile=root)  # a fresh context: a fresh verify each time
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=30) as r:
            return "ok " + r.read().decode().strip()
    except Exception as e:
        return "error " + str(e)


last = {}
rounds = 0
end = None
while end is None or time.time() < end:
    for u in urls:
        last[u] = fetch(u)
    rounds += 1
    if end is None:
        open(marker, "w").close()
        end = time.time() + seconds
print("rounds=%d" % rounds, flush=True)
for u in urls:
    print(u, last[u], flush=True)
