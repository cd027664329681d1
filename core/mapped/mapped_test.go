package mapped

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostile plants every kind of non-file the package must refuse at name
// in dir, one at a time, and returns the kinds.
func hostile(t testing.TB, dir, name string) map[string]func() {
	p := filepath.Join(dir, name)
	reset := func() { _ = os.RemoveAll(p) }
	return map[string]func(){
		"fifo":      func() { reset(); must(t, syscall.Mkfifo(p, 0o644)) },
		"directory": func() { reset(); must(t, os.Mkdir(p, 0o755)) },
		"loop":      func() { reset(); must(t, os.Symlink(name, p)) },
		"devzero":   func() { reset(); must(t, os.Symlink("/dev/zero", p)) },
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// within fails the test when f does not return in d (a FIFO open that
// blocks would hang forever).
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not finish in %v", d)
	}
}

func TestRefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	for kind, plant := range hostile(t, dir, "x") {
		plant()
		within(t, 5*time.Second, func() {
			if f, err := Map(filepath.Join(dir, "x"), 0); err == nil {
				f.Close()
				t.Errorf("%s: Map accepted it", kind)
			} else if !strings.Contains(err.Error(), filepath.Join(dir, "x")) {
				t.Errorf("%s: error does not name the path: %v", kind, err)
			}
			if _, _, err := ReadFile(filepath.Join(dir, "x"), 0); err == nil {
				t.Errorf("%s: ReadFile accepted it", kind)
			}
			if kind != "loop" && Stat(filepath.Join(dir, "x")).Errno != 0 {
				t.Errorf("%s: Stat failed", kind)
			}
		})
	}
}

func TestSizeBound(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	must(t, os.WriteFile(p, []byte("12345678"), 0o644))
	if _, err := Map(p, 7); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("8 bytes with a 7-byte bound: %v", err)
	}
	f, err := Map(p, 8)
	if err != nil || string(f.Data) != "12345678" {
		t.Fatalf("%q %v", f.Data, err)
	}
	f.Close()
	// Past the package's own bound: a sparse file, nothing is read.
	must(t, os.Truncate(p, MaxSize+1))
	if _, _, err := ReadFile(p, 0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("1 GiB + 1: %v", err)
	}
	must(t, os.Truncate(p, 0))
	if b, _, err := ReadFile(p, 0); err != nil || len(b) != 0 {
		t.Fatalf("empty: %q %v", b, err)
	}
}

// TestTruncatedInPlace performs the attack a writer breaking the
// atomicity rules makes: the mapped file shrinks under a reader. The read
// through Guard returns ErrFault; the process lives.
func TestTruncatedInPlace(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	must(t, os.WriteFile(p, make([]byte, 1<<16), 0o644))
	f, err := Map(p, 0)
	must(t, err)
	defer f.Close()
	must(t, os.Truncate(p, 0))
	read := func() (sum int, err error) {
		defer Guard(debug.SetPanicOnFault(true), &err)
		for _, b := range f.Data {
			sum += int(b)
		}
		return sum, nil
	}
	if _, err := read(); !errors.Is(err, ErrFault) {
		t.Fatalf("read of a truncated mapping: %v", err)
	}
	// Guard leaves other panics alone.
	defer func() {
		if r := recover(); r != "boom" {
			t.Fatalf("recovered %v", r)
		}
	}()
	func() (err error) {
		defer Guard(debug.SetPanicOnFault(true), &err)
		panic("boom")
	}()
}

// lines is a test value: the lines of "list" and the bytes of every file
// it names, mapped.
type lines struct{ files map[string][]byte }

func loadLines(b *Builder) (lines, error) {
	list, _, err := b.Read("list", 1<<10)
	if err != nil {
		return lines{}, err
	}
	v := lines{files: map[string][]byte{}}
	for _, name := range strings.Fields(string(list)) {
		data, _, err := b.Map(name, 1<<20)
		if errors.Is(err, os.ErrNotExist) && !b.Final() {
			return lines{}, fmt.Errorf("%s: %w", name, ErrChanged)
		}
		if err != nil {
			return lines{}, err
		}
		v.files[name] = data
	}
	return v, nil
}

func TestStoreGenerations(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		tmp := filepath.Join(dir, ".tmp")
		must(t, os.WriteFile(tmp, []byte(s), 0o644))
		must(t, os.Rename(tmp, filepath.Join(dir, name)))
	}
	s, err := Open(dir, loadLines, Options{Keys: []string{"list"}, Interval: -1})
	if !errors.Is(err, os.ErrNotExist) || s.Acquire() != nil {
		t.Fatalf("empty dir: %v", err)
	}
	write("a", "A1")
	write("list", "a")
	must(t, s.Refresh())
	g1 := s.Acquire()
	if g1 == nil || g1.Seq != 1 || string(g1.V.files["a"]) != "A1" {
		t.Fatalf("first generation %+v", g1)
	}
	// Unchanged keys: no new generation.
	must(t, s.Refresh())
	if g := s.Acquire(); g.Seq != 1 {
		t.Fatalf("idle refresh made generation %d", g.Seq)
	} else {
		g.Release()
	}
	// A new generation; the pinned old one still reads its bytes.
	write("b", "B2")
	write("list", "b")
	must(t, os.Remove(filepath.Join(dir, "a")))
	s.Poll()
	g2 := s.Acquire()
	if g2.Seq != 2 || string(g2.V.files["b"]) != "B2" || string(g1.V.files["a"]) != "A1" {
		t.Fatalf("second generation %d %q; old %q", g2.Seq, g2.V.files["b"], g1.V.files["a"])
	}
	g1.Release()
	g2.Release()
	// A broken list keeps the old generation and is not retried until it
	// changes.
	write("list", "missing")
	if err := s.Refresh(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if g := s.Acquire(); g.Seq != 2 || s.Err() == nil {
		t.Fatalf("kept %d, err %v", g.Seq, s.Err())
	} else {
		g.Release()
	}
	// A list naming a FIFO: refused at once.
	must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	write("list", "fifo")
	within(t, 5*time.Second, func() {
		if err := s.Refresh(); !errors.Is(err, ErrNotRegular) {
			t.Errorf("fifo: %v", err)
		}
	})
	s.Close()
	if s.Acquire() != nil || !errors.Is(s.Refresh(), ErrClosed) {
		t.Fatal("closed store still serves")
	}
}

func TestStoreRetriesAndGate(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "a"), []byte("A"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "list"), []byte("gone"), 0o644))
	retries := 0
	s, err := Open(dir, loadLines, Options{Keys: []string{"list"}, Interval: time.Millisecond, OnRetry: func() {
		retries++
		if retries == 2 { // the writer catches up
			must(t, os.WriteFile(filepath.Join(dir, "list"), []byte("a"), 0o644))
		}
	}})
	if err != nil || retries != 2 {
		t.Fatalf("retries %d: %v", retries, err)
	}
	defer s.Close()
	// The gate: a change is seen by Acquire once the interval passed.
	must(t, os.WriteFile(filepath.Join(dir, "b"), []byte("B"), 0o644))
	must(t, os.Rename(filepath.Join(dir, "b"), filepath.Join(dir, "list2")))
	must(t, os.WriteFile(filepath.Join(dir, "list.tmp"), []byte("list2"), 0o644))
	must(t, os.Rename(filepath.Join(dir, "list.tmp"), filepath.Join(dir, "list")))
	deadline := time.Now().Add(5 * time.Second)
	for {
		g := s.Acquire()
		seq, ok := g.Seq, string(g.V.files["list2"]) == "B"
		g.Release()
		if ok && seq == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new generation not noticed (seq %d)", seq)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
