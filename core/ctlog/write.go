package ctlog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/revocheck/revocheck/core/cachedir"
	"github.com/revocheck/revocheck/core/manifest"
)

// WriteTree writes l as <out>/ctlogs/ctlogs.json and its manifest
// <out>/ctlogs/manifest.json (upki's manifest shape, so `revocheck fetch`
// syncs it like the CRL sets): the list first, the manifest last, each
// replaced atomically. out is a mirror tree or a cache's data directory:
// readers key on ctlogs.json itself, so a cache written this way is in use
// at once. It returns the list's path.
func WriteTree(out string, l *List, now time.Time) (string, error) {
	if l.GeneratedAt == 0 {
		l.GeneratedAt = now.Unix()
	}
	data, err := l.Marshal()
	if err != nil {
		return "", err
	}
	if _, err := Parse(data); err != nil { // what readers will see
		return "", fmt.Errorf("ctlog: the list written does not read back: %v", err)
	}
	dir := filepath.Join(out, Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("ctlog: %w", err)
	}
	if err := cachedir.WriteAtomic(dir, FileName, data); err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	m := manifest.Manifest{GeneratedAt: now.Unix(), Comment: "revocheck CT log list: " + l.Source,
		Files: []manifest.File{{Filename: FileName, Size: int64(len(data)), Hash: hex.EncodeToString(sum[:])}}}
	mdata, err := m.Marshal()
	if err != nil {
		return "", fmt.Errorf("ctlog: %w", err)
	}
	if err := cachedir.WriteAtomic(dir, "manifest.json", mdata); err != nil {
		return "", err
	}
	return filepath.Join(dir, FileName), nil
}
