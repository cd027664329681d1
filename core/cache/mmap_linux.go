package cache

import (
	"fmt"
	"os"
	"syscall"
)

// fileID identifies the bytes behind a path: a replaced file (rename over
// it, or rewrite) changes at least one field.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // ns
}

func statID(path string) (fileID, error) {
	var st syscall.Stat_t
	for {
		err := syscall.Stat(path, &st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fileID{}, &os.PathError{Op: "stat", Path: path, Err: err}
		}
		return idOf(&st), nil
	}
}

func idOf(st *syscall.Stat_t) fileID {
	return fileID{
		dev: uint64(st.Dev), ino: uint64(st.Ino), size: st.Size,
		mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(),
	}
}

// mapFile maps path read-only and returns the bytes, the identity of the
// file actually mapped and an unmap function. The descriptor is closed
// right away: the mapping keeps the inode alive, so a later rename over the
// path does not disturb it (C2SP "Cache atomicity").
func mapFile(path string) ([]byte, fileID, func(), error) {
	// Plain system calls, not os.Open: a cache file needs no poller
	// registration or finalizer, and a first check opens dozens.
	// O_NONBLOCK: a FIFO planted in the cache must not block the open.
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, fileID{}, nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fileID{}, nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, fileID{}, nil, fmt.Errorf("%s: not a regular file", path)
	}
	id := idOf(&st)
	if st.Size == 0 {
		return []byte{}, id, func() {}, nil
	}
	if uint64(st.Size) > uint64(maxFileSize) {
		return nil, fileID{}, nil, fmt.Errorf("%s: %d bytes, more than %d", path, st.Size, maxFileSize)
	}
	data, err := syscall.Mmap(fd, 0, int(st.Size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fileID{}, nil, &os.PathError{Op: "mmap", Path: path, Err: err}
	}
	return data, id, func() { _ = syscall.Munmap(data) }, nil
}
