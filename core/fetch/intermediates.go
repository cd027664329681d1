package fetch

import (
	"fmt"
	"path/filepath"

	"github.com/revocheck/revocheck/core/httpget"
	"github.com/revocheck/revocheck/core/intermediates"
)

// indexIntermediates keeps <cache>/intermediates/subjects.idx in step with
// the synced set, after the tree's sync: rebuilt whenever the index was
// not built from the manifest.json now on disk (a new generation, a crash
// between the manifest's rename and the index's, a first run), removed
// with the set. The index is derived data: a refused or rolled-back
// generation never reaches it (the old manifest stays, and so does the
// index built from it), and it is replaced by rename like every file
// readers map.
func indexIntermediates(o *Options, tr *TreeResult) error {
	dir := filepath.Join(o.CacheDir, intermediates.Dir)
	switch {
	case tr.Skipped: // 403: the local copy is kept, and its index
		return nil
	case tr.Absent:
		if err := intermediates.RemoveIndex(dir); err != nil {
			return &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
		}
		return nil
	case intermediates.IndexCurrent(dir):
		return nil
	}
	t, err := intermediates.BuildIndex(dir)
	if err != nil {
		return &httpget.Error{Err: fmt.Errorf("fetch: intermediates index: %w", err)}
	}
	tr.IndexBuilt, tr.IndexCerts, tr.IndexSize, tr.IndexSkipped = true, t.Certs, t.Size, len(t.Skipped)
	o.at("intermediates:index")
	return nil
}
