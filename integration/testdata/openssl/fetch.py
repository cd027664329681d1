"""Fetch URLs with urllib.request and an SSL context trusting only ROOT.

usage: fetch.py ROOT URL...
Prints one line per URL: "<url> ok <body>" or "<url> error <message>".
"""
import ssl
import sys
import urllib.request


def fetch(ctx, url):
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=20) as r:
            return "ok " + r.read().decode().strip()
    except Exception as e:  # report every failure the same way
        return "error " + str(e)


def main():
    ctx = ssl.create_default_context(cafile=sys.argv[1])
    for url in sys.argv[2:]:
        print(url, fetch(ctx, url), flush=True)


main()
