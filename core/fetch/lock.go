package fetch

import (
	"context"
	"errors"
	"fmt"
	"github.com/revocheck/revocheck/core/httpget"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// LockName is the lock file in the cache directory. Two fetches (a timer
// and a manual run) take it exclusively, so they never interleave; readers
// never take it.
const LockName = ".lock"

// lockCache takes an exclusive flock on dir/.lock, waiting up to wait. A
// lock still held after wait is a TempError (the other fetch will finish).
// The lock dies with the process, so a killed fetch never leaves it stuck.
func lockCache(ctx context.Context, dir string, wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, LockName), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, &httpget.Error{Err: fmt.Errorf("fetch: lock: %w", err)}
	}
	deadline := time.Now().Add(wait)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, &httpget.Error{Err: fmt.Errorf("fetch: lock %s: %w", f.Name(), err)}
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, &httpget.TempError{Err: fmt.Errorf("fetch: another fetch holds %s", f.Name())}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, &httpget.TempError{Err: fmt.Errorf("fetch: waiting for %s: %w", f.Name(), ctx.Err())}
		case <-time.After(50 * time.Millisecond):
		}
	}
}
