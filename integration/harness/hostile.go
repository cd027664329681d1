package harness

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// PlantHostile puts at path (replacing what is there) what an attacker or a
// broken disk could leave in a cache: "fifo", "directory", "loop" (a
// symlink to itself), "devzero" (a symlink to /dev/zero) or "oversize" (a
// sparse file one byte over core/mapped's 1 GiB bound). Readers must answer
// at once with an error, never hang or read without end.
func PlantHostile(t testing.TB, path, kind string) {
	t.Helper()
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var err error
	switch kind {
	case "fifo":
		err = syscall.Mkfifo(path, 0o644)
	case "directory":
		err = os.Mkdir(path, 0o755)
	case "loop":
		err = os.Symlink(filepath.Base(path), path)
	case "devzero":
		err = os.Symlink("/dev/zero", path)
	case "oversize":
		if err = os.WriteFile(path, nil, 0o644); err == nil {
			err = os.Truncate(path, 1<<30+1)
		}
	default:
		t.Fatalf("PlantHostile: unknown kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
}
