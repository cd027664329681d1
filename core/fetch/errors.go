package fetch

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Exit codes of `revocheck fetch`, chosen so that a systemd timer (or cron)
// can tell "try again later" from "someone must look at this".
const (
	ExitOK   = 0  // the cache is up to date (or was updated)
	ExitFail = 1  // a permanent error: bad manifest, integrity failure, local I/O, no usable data
	ExitTemp = 75 // EX_TEMPFAIL: network trouble, server 5xx/429, another fetch holds the lock
	// ExitRefused (EX_DATAERR): the mirror's new generation looks unsafe to
	// install (no files, older than the one in the cache, a redirect to
	// another host, a filter that does not parse); the previous generation
	// is kept. --force (or --allow-redirect-host) when it is really meant.
	ExitRefused = 65
)

// RefusedError is a generation fetch would not install: see ExitRefused.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }
func (e *RefusedError) ExitCode() int { return ExitRefused }

func refusedf(format string, args ...any) error {
	return &RefusedError{fmt.Errorf(format, args...)}
}

// TempError is a failure worth retrying later: the network, a timeout, an
// HTTP 5xx/408/429 answer, or the cache lock held by another fetch. It maps
// to exit code 75 (EX_TEMPFAIL).
type TempError struct{ Err error }

func (e *TempError) Error() string   { return e.Err.Error() }
func (e *TempError) Unwrap() error   { return e.Err }
func (e *TempError) ExitCode() int   { return ExitTemp }
func (e *TempError) Temporary() bool { return true }

// Error is a permanent failure: a manifest that is malformed or names an
// unsafe file, a file whose size or SHA-256 does not match its manifest entry
// (after retries), an HTTP 4xx, a filter that does not parse, or a local I/O
// error. It maps to exit code 1.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
func (e *Error) ExitCode() int { return ExitFail }

// ExitCode returns the exit status for err: 0 for nil, 65 for a
// RefusedError and 75 for a TempError anywhere in the chain, 1 otherwise.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var re *RefusedError
	if errors.As(err, &re) {
		return ExitRefused
	}
	var te *TempError
	if errors.As(err, &te) {
		return ExitTemp
	}
	return ExitFail
}

// Typed returns err with a *TempError or *Error at the top of its chain
// (wrapping it when the typed error sits deeper), so that a caller asserting
// ExitCode() on the error itself, as cmd/revocheck does, gets the right code.
func Typed(err error) error {
	switch err.(type) {
	case nil:
		return nil
	case *TempError, *Error, *RefusedError:
		return err
	}
	switch ExitCode(err) {
	case ExitTemp:
		return &TempError{err}
	case ExitRefused:
		return &RefusedError{err}
	}
	return &Error{err}
}

// integrityError marks a download whose bytes do not match the manifest.
// Downloads retry on it (a mirror being updated can serve a new file under
// an old manifest), then report it as a permanent Error.
type integrityError struct{ msg string }

func (e *integrityError) Error() string { return e.msg }

func integrityf(format string, args ...any) error {
	return &integrityError{msg: fmt.Sprintf(format, args...)}
}

// httpStatusError is a non-2xx answer.
type httpStatusError struct {
	URL    string
	Status int
	After  time.Duration // Retry-After, when the server sent one
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("%s: http status %d", e.URL, e.Status)
}

// retryable reports whether an attempt that failed with err may succeed
// when repeated.
func retryable(err error) bool {
	var se *httpStatusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == 408 || se.Status == 429
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var pe *Error
	if errors.As(err, &pe) {
		return false // local trouble, or already judged permanent
	}
	var ie *integrityError
	if errors.As(err, &ie) {
		return true
	}
	var le *limitError
	if errors.As(err, &le) {
		return false
	}
	var re *redirectError
	if errors.As(err, &re) {
		return false // a loop or a foreign host answers the same next time
	}
	var rf *RefusedError
	if errors.As(err, &rf) {
		return false
	}
	// Everything else is transport trouble: refused, reset, timeouts,
	// bodies cut short.
	return true
}

// classify turns the last attempt's error into a TempError or an Error.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var te *TempError
	var pe *Error
	var rf *RefusedError
	if errors.As(err, &te) || errors.As(err, &pe) || errors.As(err, &rf) {
		return err
	}
	var rd *redirectError
	if errors.As(err, &rd) {
		if rd.foreign {
			return &RefusedError{err}
		}
		return &Error{err}
	}
	var se *httpStatusError
	if errors.As(err, &se) {
		if retryable(err) {
			return &TempError{err}
		}
		return &Error{err}
	}
	var ie *integrityError
	var le *limitError
	if errors.As(err, &ie) || errors.As(err, &le) {
		return &Error{err}
	}
	return &TempError{err}
}

// redirectError is a redirect fetch does not follow: a loop (too many
// hops), or one to another host (foreign) not allowed by
// --allow-redirect-host. Neither is retried.
type redirectError struct {
	msg     string
	foreign bool
}

func (e *redirectError) Error() string { return e.msg }
