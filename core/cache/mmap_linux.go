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
	f, err := os.Open(path)
	if err != nil {
		return nil, fileID{}, nil, err
	}
	defer f.Close()
	sc, err := f.SyscallConn()
	if err != nil {
		return nil, fileID{}, nil, err
	}
	var st syscall.Stat_t
	var serr error
	if err := sc.Control(func(fd uintptr) { serr = syscall.Fstat(int(fd), &st) }); err != nil {
		return nil, fileID{}, nil, err
	}
	if serr != nil {
		return nil, fileID{}, nil, &os.PathError{Op: "fstat", Path: path, Err: serr}
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
	var data []byte
	var merr error
	if err := sc.Control(func(fd uintptr) {
		data, merr = syscall.Mmap(int(fd), 0, int(st.Size), syscall.PROT_READ, syscall.MAP_SHARED)
	}); err != nil {
		return nil, fileID{}, nil, err
	}
	if merr != nil {
		return nil, fileID{}, nil, &os.PathError{Op: "mmap", Path: path, Err: merr}
	}
	return data, id, func() { _ = syscall.Munmap(data) }, nil
}
