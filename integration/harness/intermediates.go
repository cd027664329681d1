package harness

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/intermediates"
	"github.com/revocheck/revocheck/core/mirror"
)

// PreloadIntermediates installs ders as the cache's preloaded intermediates
// (<cache>/intermediates/: upki's buckets, manifest and the index), written
// by the same code as `revocheck mirror intermediates`. Chain completion
// then finds them; e.g. env.PreloadIntermediates(t, env.Sites["good"].Issuer).
func (e *Env) PreloadIntermediates(t testing.TB, ders ...[]byte) {
	t.Helper()
	dir := filepath.Join(e.CacheDir, intermediates.Dir)
	if _, _, _, err := mirror.WriteIntermediates(dir, ders, time.Now().Unix(), "test", false); err != nil {
		t.Fatalf("harness: preloading intermediates: %v", err)
	}
}
