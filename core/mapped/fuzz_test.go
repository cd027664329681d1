package mapped

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"testing"
	"time"
)

// FuzzStore plays a writer that does anything to a directory (atomic
// replaces, rewrites and truncation in place, removal, FIFOs, directories,
// symlink loops and /dev/zero planted at any name) between the reloads and
// reads of a Store. Whatever it does, no call hangs or crashes; a read
// of a pinned generation gives its bytes or ErrFault.
func FuzzStore(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{1, 0, 9, 1, 4, 2, 7, 1, 8, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		dir := t.TempDir()
		names := []string{"list", "a", "b"}
		s, _ := Open(dir, loadLines, Options{Keys: []string{"list"}, Interval: -1, Retries: 1})
		defer s.Close()
		var held []*Gen[lines]
		for i := 0; i+1 < len(ops); i += 2 {
			p := filepath.Join(dir, names[int(ops[i+1])%len(names)])
			content := []byte("a b")[:1+int(ops[i+1])%3]
			switch ops[i] % 10 {
			case 0: // atomic replace
				tmp := p + ".tmp"
				writeNB(tmp, content)
				_ = os.Rename(tmp, p)
			case 1: // rewrite in place
				writeNB(p, bytes.Repeat(content, int(ops[i+1])))
			case 2:
				_ = os.Truncate(p, 0)
			case 3:
				_ = os.RemoveAll(p)
			case 4:
				_ = os.RemoveAll(p)
				_ = syscall.Mkfifo(p, 0o644)
			case 5:
				_ = os.RemoveAll(p)
				_ = os.Mkdir(p, 0o755)
			case 6:
				_ = os.RemoveAll(p)
				_ = os.Symlink(filepath.Base(p), p)
			case 7:
				_ = os.RemoveAll(p)
				_ = os.Symlink("/dev/zero", p)
			case 8:
				done := make(chan struct{})
				go func() { defer close(done); _ = s.Refresh() }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("Refresh hung")
				}
				if g := s.Acquire(); g != nil {
					held = append(held, g)
				}
			case 9: // read every pinned generation: its bytes, or ErrFault
				for _, g := range held {
					for _, v := range g.V.files {
						_, _ = copyGuarded(v)
					}
				}
			}
		}
		for _, g := range held {
			g.Release()
		}
	})
}

func copyGuarded(b []byte) (c []byte, err error) {
	defer Guard(debug.SetPanicOnFault(true), &err)
	return bytes.Clone(b), nil
}

// writeNB is the fuzzed writer's os.WriteFile, non-blocking: the writer
// itself must not hang on a FIFO it planted.
func writeNB(p string, b []byte) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		return
	}
	_, _ = f.Write(b)
	_ = f.Close()
}
