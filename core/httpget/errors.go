package httpget

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/revocheck/revocheck/core/mapped"
	"time"
)

// Kind is what a failed sync means for whoever runs it (a systemd timer,
// cron, a person): cmd/revocheck maps each kind to an exit status.
type Kind int

const (
	OK Kind = iota // no error
	// Failed is permanent: a bad manifest, an integrity failure, a local
	// I/O error, no usable data. Someone must look.
	Failed
	// Refused: the new generation looks unsafe to install (no files, older
	// than the cache's, a redirect to another host, a filter that does not
	// parse); the previous generation is kept.
	Refused
	// Temporary: the network, a server error, another fetch holding the
	// lock. Trying again later may succeed.
	Temporary
)

// KindOf returns the kind of err: OK for nil, Refused or Temporary when such
// an error is anywhere in the chain (Refused first), Failed otherwise.
func KindOf(err error) Kind {
	if err == nil {
		return OK
	}
	var re *RefusedError
	if errors.As(err, &re) {
		return Refused
	}
	var te *TempError
	if errors.As(err, &te) {
		return Temporary
	}
	return Failed
}

// RefusedError is a generation that would not be installed: see Refused.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// Refusedf makes a RefusedError.
func Refusedf(format string, args ...any) error {
	return &RefusedError{fmt.Errorf(format, args...)}
}

// TempError is a failure worth retrying later: the network, a timeout, an
// HTTP 5xx/408/429 answer, or the cache lock held by another fetch.
type TempError struct{ Err error }

func (e *TempError) Error() string   { return e.Err.Error() }
func (e *TempError) Unwrap() error   { return e.Err }
func (e *TempError) Temporary() bool { return true }

// Error is a permanent failure: a manifest that is malformed or names an
// unsafe file, a file whose size or SHA-256 does not match its manifest entry
// (after retries), an HTTP 4xx, a filter that does not parse, or a local I/O
// error.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Typed returns err with a *TempError, *RefusedError or *Error at the top
// of its chain (wrapping it when the typed error sits deeper).
func Typed(err error) error {
	switch err.(type) {
	case nil:
		return nil
	case *TempError, *Error, *RefusedError:
		return err
	}
	switch KindOf(err) {
	case Temporary:
		return &TempError{err}
	case Refused:
		return &RefusedError{err}
	}
	return &Error{err}
}

// FileSHA256 is the SHA-256 of a file already on disk, to compare with the
// digest a Download would verify (and skip the download when equal).
func FileSHA256(path string) ([32]byte, error) {
	// Opened as the checkers open cache files (core/mapped): a FIFO or a
	// device planted in the cache is an error, never a hang or an endless read.
	data, _, err := mapped.ReadFile(path, mapped.MaxSize)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(data), nil
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

// StatusCode is the HTTP status of a non-2xx answer in err's chain, 0 when
// err is not one (mirror tells an absent collection, 404, from a failure).
func StatusCode(err error) int {
	var se *httpStatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
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
