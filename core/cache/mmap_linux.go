package cache

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// fileID identifies the bytes behind a path: a replaced file (rename over
// it, or rewrite) changes at least one field.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // ns
}

func statID(path string) (fileID, error) {
	var st unix.Stat_t
	for {
		err := unix.Stat(path, &st)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fileID{}, &os.PathError{Op: "stat", Path: path, Err: err}
		}
		return idOf(&st), nil
	}
}

func idOf(st *unix.Stat_t) fileID {
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
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, fileID{}, nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fileID{}, nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fileID{}, nil, fmt.Errorf("%s: not a regular file", path)
	}
	id := idOf(&st)
	if st.Size == 0 {
		return []byte{}, id, func() {}, nil
	}
	if uint64(st.Size) > uint64(maxFileSize) {
		return nil, fileID{}, nil, fmt.Errorf("%s: %d bytes, more than %d", path, st.Size, maxFileSize)
	}
	data, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fileID{}, nil, &os.PathError{Op: "mmap", Path: path, Err: err}
	}
	return data, id, func() { _ = unix.Munmap(data) }, nil
}
