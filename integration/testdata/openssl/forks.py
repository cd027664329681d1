"""Pre-fork workers: the parent checks once (starting revocheck's Go runtime
in-process), then N workers forked from it each connect to both sites.

usage: forks.py ROOT GOOD_URL REVOKED_URL N os|mp

os: N children from os.fork, all at once; mp: a multiprocessing pool of N
workers (start method "fork", as on Linux by default up to Python 3.13)
running 2N tasks. With FORKS_SIGCHLD=ignore, each os.fork child ignores
SIGCHLD (its helper processes are then reaped by the kernel). Prints one line per connection and a summary:
  "summary revoked_refused=R/N good_accepted=G/N max_seconds=S"
"""
import multiprocessing
import os
import signal
import ssl
import sys
import time
import urllib.request

root, good, revoked, n, mode = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]


def fetch(url):
    ctx = ssl.create_default_context(cafile=root)
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=20) as r:
            return "ok " + r.read().decode().strip()
    except Exception as e:
        return "error " + str(e)


def zombies():
    """Children of this process that exited and were never reaped."""
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z" and int(fields[1]) == os.getpid():
                n += 1
    return n


def task(arg):
    i, kind = arg
    t = time.monotonic()
    res = fetch(good if kind == "good" else revoked)
    return i, kind, os.getpid(), res, time.monotonic() - t


print("parent good:", fetch(good), flush=True)
print("parent revoked:", fetch(revoked), flush=True)

results = []
unreaped = 0
if mode == "os":
    pipes = []
    for i in range(n):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            if os.environ.get("FORKS_SIGCHLD") == "ignore":
                signal.signal(signal.SIGCHLD, signal.SIG_IGN)
            out = [task((i, "revoked")), task((i, "good"))]
            os.write(w, repr((out, zombies())).encode())
            os._exit(0)
        os.close(w)
        pipes.append((pid, r))
    for pid, r in pipes:
        data = b""
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
        os.close(r)
        _, status = os.waitpid(pid, 0)
        if status != 0 or not data:
            print("child", pid, "failed, status", status, flush=True)
            continue
        out, z = eval(data.decode())
        results.extend(out)
        unreaped += z
    print("unreaped helper processes in the children: %d" % unreaped, flush=True)
else:
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(n) as pool:
        args = [(i, "revoked") for i in range(n)] + [(i, "good") for i in range(n)]
        results = pool.map(task, args, chunksize=1)

for i, kind, pid, res, secs in sorted(results):
    print("worker %d (pid %d) %s: %s (%.3fs)" % (i, pid, kind, res, secs), flush=True)
refused = sum(1 for r in results if r[1] == "revoked" and "certificate revoked" in r[3])
accepted = sum(1 for r in results if r[1] == "good" and r[3].startswith("ok hello from good"))
print("summary revoked_refused=%d/%d good_accepted=%d/%d max_seconds=%.3f"
      % (refused, n, accepted, n, max([r[4] for r in results] or [0])), flush=True)
