// Package cachedir writes complete C2SP upki-revocation cache directories:
// the filters, index.bin built from the filters' own coverage, and
// manifest.json, keeping the C2SP "Cache atomicity" invariants so that a
// concurrent reader (core/cache) never sees an index.bin naming a file that
// is not there:
//
//  1. every file is written to a temporary file in the directory, fsynced,
//     and renamed over its final name (atomic replacement);
//  2. all filters are in place (and the directory fsynced) before the
//     index.bin that names them is renamed into place;
//  3. filters the new index.bin no longer names are removed only after it
//     is visible (and fsynced).
//
// It also generates synthetic Mozilla-shaped caches for benchmarks
// (Synthetic).
package cachedir

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"
)

// File is one filter to write: its name in the directory and its bytes
// (a clubcard v4 or v3 filter).
type File struct {
	Name string
	Data []byte
}

// Options tune Write.
type Options struct {
	GeneratedAt time.Time // manifest generated_at; zero means now
	Comment     string    // manifest comment
}

const (
	indexName    = "index.bin"
	manifestName = "manifest.json"
	tmpPrefix    = ".tmp-"
)

// WriteFilters makes files the complete filter set of dir with default
// Options; see Write.
func WriteFilters(dir string, files []File) error {
	return Write(dir, files, Options{})
}

// Write makes files the complete filter set of dir (created if missing):
// it writes every filter, then index.bin (entries in the order of files,
// so list the full filter first and deltas oldest to newest), then
// manifest.json, then removes the filters that the previous index.bin or
// manifest.json named and files does not. A filter whose bytes are already
// in place is not rewritten. Nothing is written unless every filter
// parses.
func Write(dir string, files []File, opts Options) error {
	seen := make(map[string]bool, len(files))
	cov := make([]index.FileCoverage, len(files))
	for i, f := range files {
		if err := manifest.ValidateName(f.Name); err != nil {
			return fmt.Errorf("cachedir: %w", err)
		}
		if f.Name == indexName || f.Name == manifestName || strings.HasPrefix(f.Name, tmpPrefix) {
			return fmt.Errorf("cachedir: %q is reserved", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("cachedir: duplicate filter %q", f.Name)
		}
		seen[f.Name] = true
		flt, err := clubcard.Parse(f.Data)
		if err != nil {
			return fmt.Errorf("cachedir: %s: %w", f.Name, err)
		}
		cov[i].Name = f.Name
		for _, c := range flt.Coverage() {
			cov[i].Coverage = append(cov[i].Coverage, index.Coverage(c))
		}
	}
	ix, err := index.Build(cov)
	if err != nil {
		return fmt.Errorf("cachedir: %w", err)
	}
	gen := opts.GeneratedAt
	if gen.IsZero() {
		gen = time.Now()
	}
	m := &manifest.Manifest{GeneratedAt: gen.Unix(), Comment: opts.Comment, Files: make([]manifest.File, len(files))}
	for i, f := range files {
		sum := sha256.Sum256(f.Data)
		m.Files[i] = manifest.File{Filename: f.Name, Size: int64(len(f.Data)), Hash: hex.EncodeToString(sum[:])}
	}
	mj, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("cachedir: %w", err)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cachedir: %w", err)
	}
	old := previousNames(dir)

	for _, f := range files {
		if same(filepath.Join(dir, f.Name), f.Data) {
			continue
		}
		if err := writeAtomic(dir, f.Name, f.Data, false); err != nil {
			return err
		}
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := writeAtomic(dir, indexName, ix, true); err != nil {
		return err
	}
	if err := writeAtomic(dir, manifestName, mj, true); err != nil {
		return err
	}
	removed := false
	for name := range old {
		if seen[name] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cachedir: %w", err)
		}
		removed = true
	}
	if removed {
		return syncDir(dir)
	}
	return nil
}

// previousNames lists the filters the current index.bin and manifest.json
// name: the only files Write ever removes.
func previousNames(dir string) map[string]bool {
	names := map[string]bool{}
	if data, err := os.ReadFile(filepath.Join(dir, indexName)); err == nil {
		if ix, err := index.Parse(data); err == nil {
			for _, n := range ix.Filenames() {
				names[n] = true
			}
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, manifestName)); err == nil {
		if m, err := manifest.Parse(data); err == nil {
			for _, f := range m.Files {
				names[f.Filename] = true
			}
		}
	}
	delete(names, indexName)
	delete(names, manifestName)
	return names
}

// same reports whether path already holds exactly data.
func same(path string, data []byte) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(data)) {
		return false
	}
	cur, err := os.ReadFile(path)
	return err == nil && bytes.Equal(cur, data)
}

// WriteAtomic replaces dir/name with data durably: a temporary file in dir,
// fsynced, renamed into place, the directory fsynced. A reader sees the old
// bytes or the new, never a part (other data trees use it too: ctlogs/).
func WriteAtomic(dir, name string, data []byte) error { return writeAtomic(dir, name, data, true) }

// writeAtomic writes data to a temporary file in dir, fsyncs it and renames
// it to name; with syncParent the directory is fsynced too, making the
// rename durable before the caller goes on.
func writeAtomic(dir, name string, data []byte, syncParent bool) (err error) {
	tmp, err := os.CreateTemp(dir, tmpPrefix+name+"-*")
	if err != nil {
		return fmt.Errorf("cachedir: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("cachedir: writing %s: %w", name, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("cachedir: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("cachedir: fsync %s: %w", name, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("cachedir: %w", err)
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("cachedir: %w", err)
	}
	if syncParent {
		return syncDir(dir)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cachedir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("cachedir: fsync %s: %w", dir, err)
	}
	return nil
}
