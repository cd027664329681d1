// Package mapped holds revocation data that is read in place from the files
// of one directory: every file is opened by identity (one open, then fstat
// of that descriptor), must be a regular file within a size bound, and is
// memory-mapped read-only; the data built from a set of files is one
// immutable generation, swapped for a new one when the files change (a stat
// at most once a second) and unmapped when its last reader is done.
//
// Every reader of revocation data goes through here: the clubcard cache, the
// CRL sets, and `revocheck verify`, so what verify accepts the checkers can
// read, and the other way round.
//
// # Hostile files
//
// A cache directory is written by `revocheck fetch`, but anything found
// there is treated as input:
//
//   - open uses O_NONBLOCK (a FIFO does not block the open, and fstat then
//     refuses it) and O_NOCTTY; the final path component may be a symlink
//     (an administrator may point a file elsewhere) but what it resolves to
//     must be a regular file: /dev/zero, a directory or a socket is refused
//     before a byte is read, a symlink loop fails with ELOOP;
//   - the size is checked against the caller's bound before anything is
//     mapped or allocated;
//   - a file truncated in place after it was mapped raises SIGBUS on the
//     next read of the lost pages; every access to mapped bytes runs with
//     debug.SetPanicOnFault, and Guard turns the fault into ErrFault.
package mapped

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxSize bounds every file this package opens unless the caller asks for
// less (Mozilla's full filter is ~6 MB, a CRL set of 10 million entries
// ~60 MB).
const MaxSize = 1 << 30

var (
	// ErrNotRegular: the path names a FIFO, device, directory or socket.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file is larger than the caller's bound.
	ErrTooLarge = errors.New("file too large")
	// ErrFault: a mapped file lost pages under a reader (it was truncated
	// or rewritten in place instead of replaced by rename).
	ErrFault = errors.New("memory fault reading a mapped file (was it modified in place?)")
)

// ID identifies the bytes behind a path: replacing the file (rename over
// it) or rewriting it changes at least one field. Errno is set instead when
// the path could not be stat'ed (ENOENT: absent).
type ID struct {
	Dev, Ino     uint64
	Size         int64
	Mtime, Ctime int64 // unix ns
	Errno        uintptr
}

// Exists reports whether the stat found something at the path.
func (id ID) Exists() bool { return id.Errno == 0 }

// File is one opened file: mapped (Data aliases the mapping until Close) or,
// for ReadFile, copied to the heap.
type File struct {
	Data  []byte
	ID    ID
	unmap func()
}

// Close unmaps the file. Data must not be used afterwards.
func (f *File) Close() {
	if f.unmap != nil {
		f.unmap()
		f.unmap = nil
	}
}

// Map opens path as Open does and maps it read-only; limit bounds its size
// (0: MaxSize). The descriptor is closed at once: the mapping keeps the
// inode alive, so a later rename over the path does not disturb it.
func Map(path string, limit int64) (*File, error) {
	f, err := openFile(atCWD, path, limit, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	return f, nil
}

// ReadFile opens path as Map does but copies the bytes to the heap (for
// small files that are parsed once, such as manifests).
func ReadFile(path string, limit int64) ([]byte, ID, error) {
	f, err := openFile(atCWD, path, limit, false)
	if err != nil {
		return nil, ID{}, fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	return f.Data, f.ID, nil
}

// ValidName rejects names that would leave the directory they are joined
// to.
func ValidName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("bad file name %q", name)
	}
	return nil
}

func limitOf(limit int64) int64 {
	if limit <= 0 || limit > MaxSize {
		return MaxSize
	}
	return limit
}

func sizeError(size, limit int64) error {
	return fmt.Errorf("%d bytes, more than %d: %w", size, limit, ErrTooLarge)
}

// readAll reads exactly size bytes from r (a regular file that may change
// size under us: a short read is an error, not a silent truncation).
func readAll(r io.ReaderAt, size int64) ([]byte, error) {
	b := make([]byte, size)
	n, err := r.ReadAt(b, 0)
	if int64(n) != size {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}
