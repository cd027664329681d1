package main

// Whole-file replacement for the system files `revocheck enable` edits:
// readers never see half a file, and the first original is kept.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall" // only the *Stat_t that os.FileInfo.Sys returns: a standard library type
)

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, with the old file's mode and owner, renamed over it.
func writeAtomic(path string, data []byte, defMode fs.FileMode) error {
	mode, uid, gid := defMode, -1, -1
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".revocheck-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if uid >= 0 && (uid != os.Getuid() || gid != os.Getgid()) {
		// Only root can give the file away; then keep the owner.
		if err := tmp.Chown(uid, gid); err != nil && !errors.Is(err, fs.ErrPermission) {
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// backupOnce keeps the original of path as path.revocheck-backup before our
// first change to it; later changes keep that first original. Returns the
// backup's path ("" when path does not exist yet: nothing to keep).
func backupOnce(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	b := path + backupSuffix
	if _, err := os.Lstat(b); err == nil {
		return b, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if err := writeAtomic(b, data, fi.Mode().Perm()); err != nil {
		return "", fmt.Errorf("keeping a backup of %s: %w", path, err)
	}
	return b, nil
}
