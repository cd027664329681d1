"""Many concurrent connections from one process must all get the right answer.

usage: threads.py ROOT THREADS ROUNDS GOOD_URL REVOKED_URL
Each thread alternates between the good and the revoked site. Prints
"correct=N wrong=M" and one line per wrong answer.
"""
import ssl
import sys
import threading
import urllib.request

root = sys.argv[1]
threads, rounds = int(sys.argv[2]), int(sys.argv[3])
good, revoked = sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=root)  # shared, as servers do
lock = threading.Lock()
correct, wrong = 0, []
start = threading.Barrier(threads)


def fetch(url):
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=30) as r:
            return "ok " + r.read().decode().strip()
    except Exception as e:
        return "error " + str(e)


def worker(n):
    global correct
    start.wait()  # every thread makes its first check at the same time
    for i in range(rounds):
        url = good if (n + i) % 2 == 0 else revoked
        got = fetch(url)
        ok = got.startswith("ok hello") if url == good else "certificate revoked" in got
        with lock:
            if ok:
                correct += 1
            else:
                wrong.append("%s -> %s" % (url, got))


ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("correct=%d wrong=%d" % (correct, len(wrong)), flush=True)
for w in wrong:
    print("wrong:", w)
