package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/serve"
)

const serveUsage = `usage: revocheck serve --dir DIR [--listen ADDR]

Serve a mirror tree (from revocheck mirror) over HTTP, with ETag,
Last-Modified, If-None-Match, If-Modified-Since and Range. Names starting
with '.' are not served and there are no directory listings.

flags:
`

// cmdServe is `revocheck serve`. It runs until SIGINT or SIGTERM.
func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagsText("serve", serveUsage, stderr)
	dir := fs.String("dir", "", "the tree to serve (required)")
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	accessLog := fs.Bool("log", false, "log every request to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("serve: --dir is required (and no arguments)")
	}
	h, err := serve.New(*dir)
	if err != nil {
		return err
	}
	defer h.Close()
	if *accessLog {
		h.Log = log.New(stderr, "revocheck serve: ", log.LstdFlags)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := serve.Server(h)
	fmt.Fprintf(stdout, "serving %s on http://%s/\n", *dir, ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
