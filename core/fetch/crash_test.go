package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/revocheck/revocheck/core/httpget"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/index"
)

// The kill -9 test runs the sync in a child process: this test binary
// re-executed with REVOCHECK_FETCH_CHILD set.
func TestMain(m *testing.M) {
	if os.Getenv("REVOCHECK_FETCH_CHILD") == "1" {
		childSync()
		return
	}
	os.Exit(m.Run())
}

func childSync() {
	killAt := os.Getenv("REVOCHECK_KILL_AT")
	c := httpget.NewClient()
	c.Attempts = 1
	_, err := Sync(context.Background(), Options{
		URL: os.Getenv("REVOCHECK_URL"), CacheDir: os.Getenv("REVOCHECK_CACHE"), Client: c, LockWait: 10 * time.Second,
		hook: func(p string) {
			if p == killAt {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1 + int(httpget.KindOf(err))) // any failure: nonzero
	}
	os.Exit(0)
}

// generations the mirror alternates between: new names, dropped names and
// a reused name with other bytes.
func generations(fx []byte) [][]tfile {
	other := bytes.Clone(fx)
	other[len(other)-1] ^= 0x80
	return [][]tfile{
		{{"x.filter", fx}, {"y.delta", fx}},
		{{"y.delta", fx}, {"z.delta", fx}},
		{{"x.filter", other}, {"z.delta", fx}},
	}
}

func allowedBytes(gens [][]tfile) map[string]map[[32]byte]bool {
	out := map[string]map[[32]byte]bool{}
	for _, g := range gens {
		for _, f := range g {
			if out[f.name] == nil {
				out[f.name] = map[[32]byte]bool{}
			}
			out[f.name][sha256.Sum256(f.data)] = true
		}
	}
	return out
}

// readerView does what a C2SP reader does: open index.bin, keep the handle,
// parse it, open every file it names and read its coverage. A missing file
// means the index was superseded: retry once with a fresh index.
func readerView(cache string, allowed map[string]map[[32]byte]bool) error {
	var last error
	for try := 0; try < 3; try++ {
		f, err := os.Open(filepath.Join(cache, "index.bin"))
		if err != nil {
			return fmt.Errorf("index.bin: %w", err)
		}
		last = func() error {
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			data := make([]byte, st.Size())
			if _, err := f.ReadAt(data, 0); err != nil {
				return fmt.Errorf("index.bin: %w", err)
			}
			ix, err := index.Parse(data)
			if err != nil {
				return fmt.Errorf("index.bin: %w", err)
			}
			for _, n := range ix.Filenames() {
				b, err := os.ReadFile(filepath.Join(cache, n))
				if err != nil {
					return err
				}
				if allowed != nil && !allowed[n][sha256.Sum256(b)] {
					return fmt.Errorf("%s: bytes of no generation", n)
				}
				if _, err := coverageOf(b); err != nil {
					return fmt.Errorf("%s: %w", n, err)
				}
			}
			return nil
		}()
		if last == nil || !errors.Is(last, fs.ErrNotExist) {
			return last
		}
	}
	return last
}

func TestKill9AtEveryPointAndAtRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	fx := fixture(t)
	gens := generations(fx)
	allowed := allowedBytes(gens)
	m := newMirror(t)
	// Slow bodies down so that random kills land mid-download.
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, ".json") {
			return false
		}
		time.Sleep(time.Duration(rand.IntN(4)) * time.Millisecond)
		return false
	})
	cache := t.TempDir()
	m.publish(t, "", gens[0]...)
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	points := []string{":downloaded", ":installed", ":transitional-index", ":index", ":manifest", ":removed", ""}
	runs, kills := 0, 0
	for round := 0; round < 3*len(points)+12; round++ {
		g := gens[(round+1)%len(gens)]
		m.publish(t, "", g...)
		killAt := ""
		if round < 3*len(points) {
			killAt = points[round%len(points)]
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), "REVOCHECK_FETCH_CHILD=1", "REVOCHECK_URL="+m.srv.URL, "REVOCHECK_CACHE="+cache, "REVOCHECK_KILL_AT="+killAt)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if killAt == "" {
			// Random moment: anywhere from before the manifest to the end.
			time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
		}
		err := cmd.Wait()
		runs++
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() {
			kills++
		} else if err != nil {
			t.Fatalf("round %d: child failed: %v\n%s", round, err, stderr.String())
		}
		if err := readerView(cache, allowed); err != nil {
			t.Fatalf("round %d (kill at %q): cache torn: %v", round, killAt, err)
		}
		if err := cacheCheck(cache, fx); err != nil {
			t.Fatalf("round %d (kill at %q): %v", round, killAt, err)
		}
	}
	// A normal run afterwards completes the latest generation.
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatal(err)
	}
	if err := readerView(cache, allowed); err != nil {
		t.Fatal(err)
	}
	noTemps(t, cache)
	t.Logf("%d child runs, %d killed by SIGKILL", runs, kills)
	if kills < 2*len(points) {
		t.Fatalf("only %d kills landed", kills)
	}
}

func TestReaderHammerDuringGenerationSwaps(t *testing.T) {
	fx := fixture(t)
	gens := generations(fx)
	allowed := allowedBytes(gens)
	m := newMirror(t)
	cache := t.TempDir()
	m.publish(t, "", gens[0]...)
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var checks atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if err := readerView(cache, allowed); err != nil {
					errc <- err
					return
				}
				if err := cacheCheck(cache, fx); err != nil {
					errc <- err
					return
				}
				checks.Add(1)
			}
		}()
	}
	const swaps = 100
	for i := 1; i <= swaps; i++ {
		m.publish(t, "", gens[i%len(gens)]...)
		res, err := syncOnce(t, m, cache)
		if err != nil {
			t.Fatal(err)
		}
		if res.Trees[0].Unchanged {
			t.Fatalf("swap %d changed nothing", i)
		}
		select {
		case err := <-errc:
			stop.Store(true)
			t.Fatalf("reader after %d swaps: %v", i, err)
		default:
		}
	}
	stop.Store(true)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	t.Logf("%d generations, %d reader passes, no error", swaps, checks.Load())
}
