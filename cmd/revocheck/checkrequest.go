package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/revocheck/revocheck/core/checkd"
	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/engine"
)

// checkRequest is `revocheck check --request`, the adapters' helper for a
// forked child (adapters-common/rc_helper.c): a child of a process whose Go
// runtime has started cannot call into it, and spawns this instead. It
// reads one request of the check daemon's protocol (core/checkd: a
// certificate and its issuer in DER, or an issuer Name and a serial, plus
// the adapter's overrides and context) from stdin until EOF, answers it
// with the configuration the request's context gives (the adapter's
// config-file setting and environment: what revocheck_open would have
// built in the adapter; this process's own environment is not read) and
// writes the 16-byte reply to stdout. Nothing else is
// written to stdout; the exit status is 0 whenever a reply was written.
func checkRequest(stdin io.Reader, stdout io.Writer) error {
	msg, err := io.ReadAll(io.LimitReader(stdin, checkd.MaxRequest+1))
	if err != nil {
		return fmt.Errorf("check --request: %w", err)
	}
	if len(msg) > checkd.MaxRequest {
		return errors.New("check --request: request larger than the protocol allows")
	}
	r, err := checkd.ParseRequest(msg)
	if err != nil {
		return fmt.Errorf("check --request: %w", err)
	}
	var rep [checkd.ReplySize]byte
	chk, err := openFor(r)
	if err == nil && (r.Kind == checkd.KindState || r.Kind == checkd.KindIssuers) {
		chk.Close()
		err = errors.New("state and issuer requests are the daemon's")
	}
	if err != nil {
		// Not a configuration this helper can serve: the adapter falls
		// back to its unavailable policy, as if there were no helper.
		checkd.PutReply(rep[:], checkd.Reply{Status: checkd.StatusRefused})
		_, werr := stdout.Write(rep[:])
		return errors.Join(fmt.Errorf("check --request: %w", err), werr)
	}
	defer chk.Close()
	var d engine.Decision
	if r.Kind == checkd.KindDER {
		d, err = chk.CheckDER(r.A, r.B)
	} else {
		d, err = chk.CheckIssuerSerial(r.A, r.B)
	}
	reply := checkd.Reply{Outcome: int32(d.Outcome), Allowed: d.Allowed}
	if err != nil {
		reply.Status = checkd.StatusInvalid
	}
	checkd.PutReply(rep[:], reply)
	_, err = stdout.Write(rep[:])
	return err
}

// openFor builds the checker the adapter's process would have opened.
func openFor(r checkd.Request) (*engine.Checker, error) {
	c, err := r.Client()
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadFrom(c.Explicit, c.Getenv)
	var problems *config.Error
	if err != nil && !errors.As(err, &problems) {
		return nil, err
	}
	_ = cfg.ApplyOverrides(r.Overrides, "overrides") // the adapter reports its own problems
	return engine.New(cfg), nil
}
