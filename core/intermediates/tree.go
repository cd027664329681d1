package intermediates

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/revocheck/revocheck/core/manifest"
	"github.com/revocheck/revocheck/core/mapped"
)

// ManifestName is the manifest of the intermediates directory.
const ManifestName = "manifest.json"

// Tree is what BuildIndex read and wrote.
type Tree struct {
	Certs   int       // CA certificates in the index
	Skipped []Skipped // certificates left out, and why
	Size    int       // bytes of the index
	Meta    Meta
}

// ReadTree reads the certificates of an intermediates directory: the
// buckets its manifest.json lists, each checked against the manifest's
// size and SHA-256 (a bucket that changed since the sync is an error, not
// silently indexed). Files are opened through core/mapped.
func ReadTree(dir string) ([][]byte, Meta, error) {
	raw, _, err := mapped.ReadFile(filepath.Join(dir, ManifestName), manifest.MaxSize)
	if err != nil {
		return nil, Meta{}, err
	}
	m, err := manifest.Parse(raw)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
	}
	meta := Meta{GeneratedAt: m.GeneratedAt, Source: sha256.Sum256(raw)}
	var ders [][]byte
	for _, f := range m.Files {
		if f.Filename == IndexFile {
			return nil, meta, fmt.Errorf("%s: the manifest lists %s, the index's own name", dir, IndexFile)
		}
		p := filepath.Join(dir, f.Filename)
		data, _, err := mapped.ReadFile(p, MaxBucket)
		if err != nil {
			return nil, meta, err
		}
		want, _ := f.SHA256()
		if int64(len(data)) != f.Size || sha256.Sum256(data) != want {
			return nil, meta, fmt.Errorf("%s: does not match its manifest entry (size or SHA-256)", p)
		}
		certs, err := ParseBucket(data)
		if err != nil {
			return nil, meta, fmt.Errorf("%s: %w", p, err)
		}
		ders = append(ders, certs...)
	}
	return ders, meta, nil
}

// BuildIndex (re)writes dir's index from its manifest and buckets,
// atomically: readers switch from the old index to the new one at the
// rename.
func BuildIndex(dir string) (*Tree, error) {
	ders, meta, err := ReadTree(dir)
	if err != nil {
		return nil, err
	}
	b, skipped, err := Build(ders, meta)
	if err != nil {
		return nil, err
	}
	ix, err := Parse(b)
	if err != nil {
		return nil, err // Build wrote what Parse refuses: a bug, not data
	}
	if err := WriteIndex(dir, b); err != nil {
		return nil, err
	}
	return &Tree{Certs: ix.Count(), Skipped: skipped, Size: len(b), Meta: meta}, nil
}

// IndexCurrent reports whether dir's index was built from the manifest.json
// now in dir (its SHA-256 is in the index's header).
func IndexCurrent(dir string) (ok bool) {
	raw, _, err := mapped.ReadFile(filepath.Join(dir, ManifestName), manifest.MaxSize)
	if err != nil {
		return false
	}
	f, err := mapped.Map(filepath.Join(dir, IndexFile), MaxIndexSize)
	if err != nil {
		return false
	}
	defer f.Close()
	prev := debug.SetPanicOnFault(true)
	defer func() {
		if mapped.Fault(prev, recover()) != nil {
			ok = false // truncated under us: rebuild
		}
	}()
	sum := sha256.Sum256(raw)
	return len(f.Data) >= headerSize && string(f.Data[:8]) == magic && bytes.Equal(f.Data[24:56], sum[:])
}

// RemoveIndex removes dir's index (the set is gone); absent is fine.
func RemoveIndex(dir string) error {
	if err := os.Remove(filepath.Join(dir, IndexFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
