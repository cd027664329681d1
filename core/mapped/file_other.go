//go:build !linux

package mapped

// Outside Linux (not a deployment target; kept so the package builds for
// developers) files are read into memory instead of mapped, and opened by
// path.

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
)

const atCWD = -100

// ENOENT is the Errno of an absent path.
const ENOENT = uintptr(syscall.ENOENT)

var (
	dirs   sync.Map // fd → path
	nextFD atomic.Int64
)

func Stat(path string) ID { return statAt(atCWD, path) }

func statAt(dirfd int, name string) ID {
	fi, err := os.Stat(join(dirfd, name))
	if err != nil {
		return ID{Errno: uintptr(syscall.ENOENT)}
	}
	return ID{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}
}

func join(dirfd int, name string) string {
	if d, ok := dirs.Load(dirfd); ok {
		return filepath.Join(d.(string), name)
	}
	return name
}

func openFile(dirfd int, name string, limit int64, _ bool) (*File, error) {
	f, err := os.Open(join(dirfd, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, ErrNotRegular
	}
	if limit = limitOf(limit); fi.Size() > limit {
		return nil, sizeError(fi.Size(), limit)
	}
	data, err := readAll(f, fi.Size())
	if err != nil {
		return nil, err
	}
	return &File{Data: data, ID: ID{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}}, nil
}

func openDir(path string) (int, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return -1, err
	}
	if !fi.IsDir() {
		return -1, &os.PathError{Op: "open", Path: path, Err: syscall.ENOTDIR}
	}
	fd := int(nextFD.Add(1))
	dirs.Store(fd, path)
	return fd, nil
}

func closeDir(fd int) { dirs.Delete(fd) }
