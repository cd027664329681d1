package fetch

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/crlset"
)

// MigrateLayout carries a cache of the old layout (data directly in the
// cache-dir, before cache-dir took upki's meaning) into <cache-dir>/revocation
// by hard links, so that an upgraded machine keeps answering from its data
// at once and the next sync downloads only what changed. Nothing is
// removed: processes still running the old library keep reading the old
// names. Only when dir is named revocation/, holds no index.bin yet, and
// its parent holds both index.bin and manifest.json.
func MigrateLayout(dir string, out io.Writer) error {
	if filepath.Base(dir) != config.DataSubdir {
		return nil
	}
	if _, err := os.Lstat(filepath.Join(dir, "index.bin")); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	parent := filepath.Dir(dir)
	for _, n := range []string{"index.bin", "manifest.json"} {
		if fi, err := os.Lstat(filepath.Join(parent, n)); err != nil || !fi.Mode().IsRegular() {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, crlset.Dir), 0o755); err != nil {
		return err
	}
	// Filters and CRL sets first, the index and the manifests last: a
	// reader never meets an index naming a file not yet there.
	link := func(from, to string, last []string) error {
		ents, err := os.ReadDir(from)
		if err != nil {
			return err
		}
		for pass := 0; pass < 2; pass++ {
			for _, e := range ents {
				n := e.Name()
				isLast := false
				for _, l := range last {
					isLast = isLast || n == l
				}
				keep := strings.HasSuffix(n, ".filter") || strings.HasSuffix(n, ".delta") ||
					strings.HasSuffix(n, ".crlset") || isLast
				if !e.Type().IsRegular() || !keep || isLast != (pass == 1) {
					continue
				}
				if err := os.Link(filepath.Join(from, n), filepath.Join(to, n)); err != nil && !errors.Is(err, fs.ErrExist) {
					return err
				}
			}
			if err := syncDir(to); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := os.Stat(filepath.Join(parent, crlset.Dir)); err == nil {
		if err := link(filepath.Join(parent, crlset.Dir), filepath.Join(dir, crlset.Dir), []string{"manifest.json"}); err != nil {
			return fmt.Errorf("fetch: migrating %s: %w", parent, err)
		}
	}
	if err := link(parent, dir, []string{"index.bin", "manifest.json"}); err != nil {
		return fmt.Errorf("fetch: migrating %s: %w", parent, err)
	}
	fmt.Fprintf(out, "moved to upki's layout: the cache in %s is now read from %s (hard links; the old names can be removed)\n", parent, dir)
	return nil
}
