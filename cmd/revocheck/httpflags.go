package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/httpget"
)

// downloadFlags are the flags shared by the commands that download through
// core/httpget (fetch, mirror mozilla): how long, how patiently, how quietly.
type downloadFlags struct {
	timeout, stall, backoff time.Duration
	attempts                int
	quiet                   bool
}

// register adds --timeout (default timeout, described by timeoutUsage),
// --stall-timeout, --attempts, --backoff and --quiet (quietUsage).
func (d *downloadFlags) register(fs *flag.FlagSet, timeout time.Duration, timeoutUsage, quietUsage string) {
	fs.DurationVar(&d.timeout, "timeout", timeout, timeoutUsage)
	fs.DurationVar(&d.stall, "stall-timeout", 30*time.Second, "abort a response that sends no byte for this long")
	fs.IntVar(&d.attempts, "attempts", 4, "tries per request (exponential backoff between them)")
	fs.DurationVar(&d.backoff, "backoff", time.Second, "wait before the first retry (doubles, at most 30s)")
	fs.BoolVar(&d.quiet, "quiet", false, quietUsage)
}

// check rejects values the client cannot honour; cmd names the command.
func (d *downloadFlags) check(cmd string) error {
	if d.attempts < 1 || d.attempts > 20 {
		return &httpget.Error{Err: fmt.Errorf("%s: --attempts must be 1..20", cmd)}
	}
	return nil
}

// client is an httpget.Client with these settings.
func (d *downloadFlags) client() *httpget.Client {
	c := httpget.NewClient()
	c.Attempts = d.attempts
	c.Backoff = d.backoff
	c.StallTimeout = d.stall
	return c
}

// context ends at --timeout, SIGINT or SIGTERM; call stop when done.
func (d *downloadFlags) context() (ctx context.Context, stop func()) {
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	return ctx, func() { cancel(); stopSignals() }
}
