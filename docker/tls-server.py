#!/usr/bin/python3
"""HTTPS server for the Docker tests: every site of the test PKI on one port,
chosen by SNI (good.test, revoked.test, ... and good.revocheck.test, ...).

    tls-server.py PKI_DIR [PORT]

PKI_DIR holds SITE.chain.pem (leaf + issuer) and SITE.key.pem, as written by
revocheck-testsites. Each site answers "hello from SITE". The default site
(no or unknown SNI) is "good". Plain Python: the server side must not depend
on the suite under test.
"""
import http.server
import os
import socketserver
import ssl
import sys

SITES = ["good", "revoked", "uncovered", "unenrolled", "revoked-int", "crl-revoked"]


def main():
    pki = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 443
    contexts = {}
    for site in SITES:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(pki, site + ".chain.pem"), os.path.join(pki, site + ".key.pem"))
        contexts[site] = ctx
    site_of = {id(c): s for s, c in contexts.items()}
    default = contexts["good"]

    def pick(sslsock, name, _ctx):
        site = (name or "").split(".", 1)[0]
        if site in contexts:
            sslsock.context = contexts[site]

    default.sni_callback = pick

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = ("hello from %s\n" % site_of.get(id(self.connection.context), "?")).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            sys.stderr.write("tls-server: %s %s\n" % (self.address_string(), fmt % args))

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

        # The handshake runs in the request's thread: a client that refuses
        # the certificate (the point of these tests) or stalls never blocks
        # the accept loop.
        def finish_request(self, request, client_address):
            request.settimeout(15)
            try:
                tls = default.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                sys.stderr.write("tls-server: %s: handshake: %s\n" % (client_address[0], e))
                return
            self.RequestHandlerClass(tls, client_address, self)

    srv = Server(("0.0.0.0", port), Handler)
    sys.stderr.write("tls-server: %d sites on port %d\n" % (len(contexts), port))
    sys.stderr.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
