package mapped

import (
	"os"

	"golang.org/x/sys/unix"
)

const atCWD = unix.AT_FDCWD

func idOf(st *unix.Stat_t) ID {
	return ID{Dev: uint64(st.Dev), Ino: st.Ino, Size: st.Size, Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano()}
}

// Stat returns the identity of path without opening it (a FIFO is not
// opened, so it cannot block).
func Stat(path string) ID { return statAt(atCWD, path) }

func statAt(dirfd int, name string) ID {
	var st unix.Stat_t
	for {
		err := unix.Fstatat(dirfd, name, &st, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if en, ok := err.(unix.Errno); ok {
				return ID{Errno: uintptr(en)}
			}
			return ID{Errno: uintptr(unix.EIO)}
		}
		return idOf(&st)
	}
}

// openFile opens name relative to dirfd: one open (non-blocking, so a FIFO
// cannot hang it), fstat of that descriptor (so what is checked is what is
// read), regular files only, the size bound before any mapping or
// allocation.
func openFile(dirfd int, name string, limit int64, mapIt bool) (*File, error) {
	var fd int
	var err error
	for {
		// Plain system calls, not os.Open: a cache file needs no poller
		// registration or finalizer, and a first check opens dozens.
		fd, err = unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, ErrNotRegular
	}
	limit = limitOf(limit)
	if st.Size > limit {
		return nil, sizeError(st.Size, limit)
	}
	f := &File{ID: idOf(&st)}
	switch {
	case st.Size == 0:
		f.Data = []byte{}
	case !mapIt:
		if f.Data, err = readAll(fdReader(fd), st.Size); err != nil {
			return nil, err
		}
	default:
		data, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			return nil, &os.PathError{Op: "mmap", Path: name, Err: err}
		}
		f.Data, f.unmap = data, func() { _ = unix.Munmap(data) }
	}
	return f, nil
}

type fdReader int

func (r fdReader) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Pread(int(r), b[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// openDir opens a directory to read a generation's files relative to: a
// rename of the directory path meanwhile does not mix two directories in
// one generation. O_DIRECTORY refuses a FIFO without opening it.
func openDir(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

func closeDir(fd int) { _ = unix.Close(fd) }

// ENOENT is the Errno of an absent path.
const ENOENT = uintptr(unix.ENOENT)
