package fetch

// The clubcard tree's manifest is parsed by core/manifest; the crlsets/
// tree's file names may be longer than index.bin allows (core/crlset's rule,
// up to 64 bytes), so its manifest is decoded here with the same shape.
// writeFileAtomic and syncDir are the minimal atomic-write helpers the sync
// needs.

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/manifest"
)

// MaxManifestSize bounds manifest.json (upki's for ~40 files is 5 KB).
const MaxManifestSize = 1 << 20

// MaxFileSize bounds one file a manifest may list.
const MaxFileSize = 1 << 30

// File is one manifest entry.
type File struct {
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	Hash     string `json:"hash"` // lowercase hex SHA-256
	sum      [32]byte
}

// Manifest is manifest.json as upki writes it; "filters" is the legacy
// name of "files".
type Manifest struct {
	GeneratedAt int64  `json:"generated_at"`
	Comment     string `json:"comment"`
	Files       []File `json:"files"`
}

// nameRule validates a manifest file name for one tree.
type nameRule func(string) error

// validateName is the clubcard tree's rule: what index.bin can name (at
// most 32 bytes, no NUL) plus what is safe to join to the cache directory:
// no '/', no '\\', not "." or "..", no leading '.' (temporary files, the
// lock and the state are dotfiles), not one of the cache's own files.
func validateName(name string) error {
	if err := manifest.ValidateName(name); err != nil {
		return err
	}
	return checkName(name, manifest.MaxNameLen)
}

func checkName(name string, maxLen int) error {
	switch {
	case name == "" || len(name) > maxLen:
		return fmt.Errorf("file name %q: must be 1 to %d bytes", name, maxLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("file name %q: not utf-8", name)
	case strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("file name %q: contains '/', '\\' or NUL", name)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("file name %q: starts with '.'", name)
	case name == "index.bin" || name == "manifest.json" || name == "crlsets":
		return fmt.Errorf("file name %q: reserved", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("file name %q: control character", name)
		}
	}
	return nil
}

// parseManifest decodes and validates a manifest: every name passes rule,
// no name twice, sizes within bounds, hashes 64 hex digits. Any bad entry
// rejects the whole manifest.
func parseManifest(data []byte, rule nameRule, upki bool) (*Manifest, error) {
	if upki {
		um, err := manifest.Parse(data)
		if err != nil {
			return nil, err
		}
		m := &Manifest{GeneratedAt: um.GeneratedAt, Comment: um.Comment}
		for _, f := range um.Files {
			if err := rule(f.Filename); err != nil {
				return nil, fmt.Errorf("manifest: %v", err)
			}
			if f.Size > MaxFileSize {
				return nil, fmt.Errorf("manifest: %s: size %d out of range", f.Filename, f.Size)
			}
			sum, _ := f.SHA256()
			m.Files = append(m.Files, File{Filename: f.Filename, Size: f.Size, Hash: f.Hash, sum: sum})
		}
		return m, nil
	}
	var raw struct {
		GeneratedAt *int64 `json:"generated_at"`
		Comment     string `json:"comment"`
		Files       []File `json:"files"`
		Filters     []File `json:"filters"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("manifest: %v", err)
	}
	if raw.Files != nil && raw.Filters != nil {
		return nil, errors.New(`manifest: both "files" and "filters"`)
	}
	if raw.Files == nil && raw.Filters == nil {
		return nil, errors.New(`manifest: no "files" (or "filters") list`)
	}
	m := &Manifest{Comment: raw.Comment, Files: raw.Files}
	if raw.Files == nil {
		m.Files = raw.Filters
	}
	if raw.GeneratedAt != nil {
		m.GeneratedAt = *raw.GeneratedAt
	}
	if len(m.Files) > 65535 {
		return nil, fmt.Errorf("manifest: %d files exceed index.bin's limit", len(m.Files))
	}
	seen := make(map[string]bool, len(m.Files))
	for i := range m.Files {
		f := &m.Files[i]
		if err := rule(f.Filename); err != nil {
			return nil, fmt.Errorf("manifest: %v", err)
		}
		if seen[f.Filename] {
			return nil, fmt.Errorf("manifest: %q listed twice", f.Filename)
		}
		seen[f.Filename] = true
		if f.Size < 0 || f.Size > MaxFileSize {
			return nil, fmt.Errorf("manifest: %s: size %d out of range", f.Filename, f.Size)
		}
		if len(f.Hash) != 64 || strings.ToLower(f.Hash) != f.Hash {
			return nil, fmt.Errorf("manifest: %s: hash %q is not 64 lowercase hex digits", f.Filename, f.Hash)
		}
		if _, err := hex.Decode(f.sum[:], []byte(f.Hash)); err != nil {
			return nil, fmt.Errorf("manifest: %s: hash %q is not hex", f.Filename, f.Hash)
		}
	}
	return m, nil
}

// writeFileAtomic writes dir/name by temporary file, fsync and rename, then
// fsyncs the directory: the name shows the old bytes or the new ones.
func writeFileAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, ".fetch-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// syncDir makes renames and removals in dir durable, so that the order in
// which they were made is the order a crash can observe.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}
