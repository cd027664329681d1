package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/checkd"
)

// DefaultSocket is where the adapters look for the daemon
// (RC_DEFAULT_SOCKET in adapters-common/rc_loader.h).
const DefaultSocket = "/run/revocheck/check.sock"

const daemonUsage = `usage: revocheck daemon [--socket PATH] [--config FILE] [--cache-dir DIR] [--set k=v]...

Keeps the cache open and answers the adapters' checks over a local socket,
so TLS clients need not start a Go runtime in-process (docs/ARCHITECTURE.md,
"The check daemon"). Under systemd, revocheck-checkd.socket passes the socket
and --socket is ignored. Otherwise a missing socket directory is created
(mode 0755, owned by this user: run as root so that every user's adapters
trust it). Runs Go code on half the CPUs unless $GOMAXPROCS is set (its
clients need the other half). Runs until SIGINT or SIGTERM; SIGHUP re-reads
the configuration.

flags:
`

func cmdDaemon(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("revocheck daemon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, daemonUsage); fs.PrintDefaults() }
	socket := fs.String("socket", DefaultSocket, "socket to listen on")
	var cf configFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errors.New("daemon: no arguments expected")
	}
	overrides := strings.Join(cf.sets, ";")
	if cf.cacheDir != "" {
		overrides = "cache-dir=" + cf.cacheDir + ";" + overrides
	}
	logger := log.New(stderr, "revocheck: daemon: ", 0)
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(checkd.Procs(runtime.GOMAXPROCS(0)))
	}
	srv, err := checkd.New(cf.path, strings.TrimSuffix(overrides, ";"), logger)
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	defer srv.Close()
	ln, _, err := checkd.Listen(*socket)
	if err != nil {
		return err
	}
	defer ln.Close() // removes a socket file we created
	if err := checkd.TrustedDir(filepath.Dir(ln.Addr().String())); err != nil {
		logger.Printf("warning: %v", err)
	}
	fmt.Fprintf(stdout, "answering checks on %s from %s\n", ln.Addr(), srv.CacheDir())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, unix.SIGTERM, unix.SIGHUP)
	defer signal.Stop(sig)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("daemon: %w", err)
		case s := <-sig:
			if s != unix.SIGHUP {
				return nil
			}
			if err := srv.Reload(); err != nil {
				logger.Printf("SIGHUP: keeping the old configuration: %v", err)
			} else {
				logger.Printf("SIGHUP: configuration re-read")
			}
		}
	}
}
