//go:build !linux

package cache

import (
	"fmt"
	"os"
)

// Outside Linux (not a deployment target; kept so the package builds for
// developers) files are read into memory instead of mapped.

type fileID struct {
	size  int64
	mtime int64
}

func statID(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	return fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}, nil
}

func mapFile(path string) ([]byte, fileID, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileID{}, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileID{}, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fileID{}, nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > maxFileSize {
		return nil, fileID{}, nil, fmt.Errorf("%s: %d bytes, more than %d", path, fi.Size(), maxFileSize)
	}
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil && fi.Size() > 0 {
		return nil, fileID{}, nil, err
	}
	return data, fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}, func() {}, nil
}
