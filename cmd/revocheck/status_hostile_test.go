package main

import (
	"github.com/revocheck/revocheck/integration/harness"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStatusHostileCache: status reads the cache as the checkers do, so a
// FIFO, a directory or /dev/zero at index.bin or manifest.json is reported
// at once, never a hang or an endless read.
func TestStatusHostileCache(t *testing.T) {
	for _, file := range []string{"index.bin", "manifest.json", "intermediates/subjects.idx", "intermediates/manifest.json"} {
		for _, kind := range []string{"fifo", "directory", "devzero"} {
			t.Run(file+"/"+kind, func(t *testing.T) {
				dir := t.TempDir()
				require.NoError(t, os.MkdirAll(filepath.Join(dir, "intermediates"), 0o755))
				harness.PlantHostile(t, filepath.Join(dir, file), kind)
				t.Setenv("REVOCHECK_CACHE_DIR", dir)
				t.Setenv("REVOCHECK_CONFIG", filepath.Join(dir, "absent.toml"))
				done := make(chan string, 1)
				go func() {
					_, out, _ := runCLI(t, nil, "status")
					done <- out
				}()
				select {
				case out := <-done:
					require.Contains(t, out, "cache:")
				case <-time.After(20 * time.Second):
					t.Fatalf("status still running after 20 s with a %s at %s", kind, file)
				}
			})
		}
	}
}
