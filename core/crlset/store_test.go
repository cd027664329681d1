package crlset

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

func writeTree(t *testing.T, cache string, sets map[string][]byte) {
	t.Helper()
	dir := filepath.Join(cache, Dir)
	must(t, os.MkdirAll(dir, 0o755))
	m := manifestJSON{GeneratedAt: time.Now().Unix()}
	for name, data := range sets {
		// Replace by rename, as fetch and the compiler do: a mapped file is
		// never rewritten in place.
		tmp := filepath.Join(dir, "."+name+".tmp")
		must(t, os.WriteFile(tmp, data, 0o644))
		must(t, os.Rename(tmp, filepath.Join(dir, name)))
		h := sha256.Sum256(data)
		m.Files = append(m.Files, manifestF{Filename: name, Size: int64(len(data)), Hash: hex.EncodeToString(h[:])})
	}
	raw, err := json.Marshal(m)
	must(t, err)
	tmp := filepath.Join(dir, ".manifest.tmp")
	must(t, os.WriteFile(tmp, raw, 0o644))
	must(t, os.Rename(tmp, filepath.Join(dir, ManifestName)))
}

func TestStoreMissingDir(t *testing.T) {
	s := OpenStore(filepath.Join(t.TempDir(), "nope"))
	defer s.Close()
	k := sha256.Sum256([]byte("k"))
	if c, r := s.Lookup(&k, []byte{1}); c || r {
		t.Fatal("empty store answered covered")
	}
	if st := s.Status(); st.Err != nil || len(st.Files) != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestStoreReload(t *testing.T) {
	cache := t.TempDir()
	d1, iss1 := buildTestSet(t, 11, 8, 300)
	writeTree(t, cache, map[string][]byte{"a.crlset": d1})
	s := OpenStore(filepath.Join(cache, Dir))
	defer s.Close()
	advance := func() { _ = s.Refresh() } // what the once-a-second stat does

	var ti1 testIssuer
	for _, ti := range iss1 {
		if len(ti.serials) > 0 {
			ti1 = ti
			break
		}
	}
	if c, r := s.Lookup(&ti1.spki, ti1.serials[0]); !c || !r {
		t.Fatal("first generation: not revoked")
	}
	d2, iss2 := buildTestSet(t, 12, 8, 300)
	writeTree(t, cache, map[string][]byte{"b.crlset": d2})
	// Within the second, the old generation stays.
	if c, _ := s.Lookup(&ti1.spki, ti1.serials[0]); !c {
		t.Fatal("reloaded before the stat interval")
	}
	advance()
	if c, _ := s.Lookup(&ti1.spki, ti1.serials[0]); c {
		t.Fatal("old set still served after reload")
	}
	var ti2 testIssuer // one whose name no other key carries (buildTestSet: i%3 == 0)
	for i := 0; i < len(iss2); i += 3 {
		if len(iss2[i].serials) > 0 {
			ti2 = iss2[i]
			break
		}
	}
	if len(ti2.serials) == 0 {
		t.Skip("seed gave no serials")
	}
	if c, r := s.LookupName(ti2.name, ti2.serials[0]); !c || !r {
		t.Fatal("second generation: not revoked by name")
	}
	// A damaged manifest keeps the last good generation and reports the error.
	must(t, os.WriteFile(filepath.Join(cache, Dir, ManifestName), []byte(`{"files":[{"filename":"../x.crlset","size":1}]}`), 0o644))
	advance()
	if c, r := s.LookupName(ti2.name, ti2.serials[0]); !c || !r {
		t.Fatal("good generation dropped on a bad manifest")
	}
	if s.Status().Err == nil {
		t.Fatal("bad manifest not reported")
	}
	// A size mismatch is refused too.
	writeTree(t, cache, map[string][]byte{"b.crlset": d2})
	bad, err := json.Marshal(manifestJSON{Files: []manifestF{{Filename: "b.crlset", Size: int64(len(d2)) + 1}}})
	must(t, err)
	must(t, os.WriteFile(filepath.Join(cache, Dir, ManifestName), bad, 0o644))
	advance()
	if s.Status().Err == nil {
		t.Fatal("size mismatch not reported")
	}
}

// Readers hammer the store while generations are replaced; every answer
// comes from one whole generation.
func TestStoreConcurrentSwap(t *testing.T) {
	cache := t.TempDir()
	d1, iss1 := buildTestSet(t, 21, 5, 100)
	writeTree(t, cache, map[string][]byte{"a.crlset": d1})
	s := OpenStore(filepath.Join(cache, Dir))
	defer s.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, ti := range iss1 {
					for _, ser := range ti.serials {
						if c, r := s.Lookup(&ti.spki, ser); c && !r {
							t.Error("covered but not revoked: torn generation")
							return
						}
					}
				}
			}
		}()
	}
	for i := 0; i < 30; i++ {
		if i%2 == 0 {
			writeTree(t, cache, map[string][]byte{"a.crlset": d1})
		} else {
			d, _ := buildTestSet(t, uint64(100+i), 5, 100)
			writeTree(t, cache, map[string][]byte{"a.crlset": d})
		}
		s.Poll() // as the gate would, while the readers run
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
}

func TestStoreLookupAllocs(t *testing.T) {
	cache := t.TempDir()
	d1, iss1 := buildTestSet(t, 31, 5, 100)
	writeTree(t, cache, map[string][]byte{"a.crlset": d1})
	s := OpenStore(filepath.Join(cache, Dir))
	defer s.Close()
	ser := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	if a := testing.AllocsPerRun(1000, func() {
		s.Lookup(&iss1[0].spki, ser)
		s.LookupName(iss1[0].name, ser)
	}); a != 0 {
		t.Fatalf("%v allocs per store lookup", a)
	}
}

// A Name carried by two different keys — within one set or across two —
// is not answered by name (two CAs named alike: a revocation under one says
// nothing about the other's certificates); the same key in two sets is one
// CA and still answers. Lookups by key are unaffected.
func TestStoreSharedNameNoOpinion(t *testing.T) {
	kx, ky := sha256.Sum256([]byte("X")), sha256.Sum256([]byte("Y"))
	name := []byte("0\x16CN=Corp Internal CA")
	one := func(keys ...[32]byte) []byte {
		b := NewBuilder([16]byte{1})
		for _, k := range keys {
			must(t, b.AddIssuer(k, name, t0, t1))
		}
		must(t, b.AddSerial(keys[0], []byte{0x02}))
		d, err := b.Bytes(t0)
		must(t, err)
		return d
	}
	for _, tc := range []struct {
		desc    string
		sets    map[string][]byte
		byName  bool // answered by name
		nShared int
	}{
		{"one key", map[string][]byte{"a.crlset": one(kx)}, true, 0},
		{"one key in two sets", map[string][]byte{"a.crlset": one(kx), "b.crlset": one(kx)}, true, 0},
		{"two keys in one set", map[string][]byte{"a.crlset": one(kx, ky)}, false, 1},
		{"two keys in two sets", map[string][]byte{"a.crlset": one(kx), "b.crlset": one(ky)}, false, 1},
	} {
		cache := t.TempDir()
		writeTree(t, cache, tc.sets)
		s := OpenStore(filepath.Join(cache, Dir))
		c, r := s.LookupName(name, []byte{0x02})
		if c != tc.byName || r != tc.byName {
			t.Errorf("%s: by name covered=%v revoked=%v, want %v", tc.desc, c, r, tc.byName)
		}
		if c, r := s.Lookup(&kx, []byte{0x02}); !c || !r {
			t.Errorf("%s: by key X not revoked", tc.desc)
		}
		if sh := SharedNames(s.Status().Issuers); len(sh) != tc.nShared ||
			(tc.nShared == 1 && len(sh[0].Keys) != 2) {
			t.Errorf("%s: SharedNames = %+v", tc.desc, sh)
		}
		s.Close()
	}
}

// TestStoreHostileFiles plants a FIFO, a directory, a symlink loop and a
// symlink to /dev/zero at the manifest and at a set: the store answers
// "not covered" at once and reports why, and keeps the last good sets.
func TestStoreHostileFiles(t *testing.T) {
	d1, iss1 := buildTestSet(t, 41, 5, 100)
	for _, victim := range []string{ManifestName, "a.crlset"} {
		for _, kind := range []string{"fifo", "directory", "loop", "devzero"} {
			cache := t.TempDir()
			dir := filepath.Join(cache, Dir)
			writeTree(t, cache, map[string][]byte{"a.crlset": d1})
			good := OpenStore(dir)
			p := filepath.Join(dir, victim)
			mraw, err := os.ReadFile(filepath.Join(dir, ManifestName))
			must(t, err)
			must(t, os.Remove(p))
			switch kind {
			case "fifo":
				must(t, syscall.Mkfifo(p, 0o644))
			case "directory":
				must(t, os.Mkdir(p, 0o755))
			case "loop":
				must(t, os.Symlink(victim, p))
			case "devzero":
				must(t, os.Symlink("/dev/zero", p))
			}
			if victim != ManifestName { // a new manifest names the planted set
				tmp := filepath.Join(dir, ".m")
				must(t, os.WriteFile(tmp, mraw, 0o644))
				must(t, os.Rename(tmp, filepath.Join(dir, ManifestName)))
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				fresh := OpenStore(dir)
				if c, _ := fresh.Lookup(&iss1[0].spki, []byte{1}); c {
					t.Errorf("%s at %s: covered", kind, victim)
				}
				if fresh.Status().Err == nil {
					t.Errorf("%s at %s: no error reported", kind, victim)
				}
				fresh.Close()
				if err := good.Refresh(); err == nil {
					t.Errorf("%s at %s: refresh accepted it", kind, victim)
				}
				if c, _ := good.Lookup(&iss1[0].spki, []byte{1}); !c {
					t.Errorf("%s at %s: last good sets dropped", kind, victim)
				}
				good.Close()
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s at %s: hung", kind, victim)
			}
		}
	}
}

// TestStoreTruncatedInPlace performs the attack that crashed hosts: a
// mapped set is truncated in place under lookups. They answer "not
// covered" (the data is gone) and the process lives.
func TestStoreTruncatedInPlace(t *testing.T) {
	cache := t.TempDir()
	d1, iss1 := buildTestSet(t, 51, 50, 2000)
	writeTree(t, cache, map[string][]byte{"a.crlset": d1})
	s := OpenStore(filepath.Join(cache, Dir))
	defer s.Close()
	if c, _ := s.Lookup(&iss1[len(iss1)-1].spki, []byte{1}); !c {
		t.Fatal("not covered before the truncation")
	}
	must(t, os.Truncate(filepath.Join(cache, Dir, "a.crlset"), 0))
	for _, ti := range iss1 {
		if c, r := s.Lookup(&ti.spki, []byte{1}); c || r {
			t.Fatalf("answered from a truncated set: covered %v revoked %v", c, r)
		}
		s.LookupName(ti.name, []byte{1})
	}
	if st := s.Status(); st.Err == nil {
		t.Fatal("fault not reported")
	}
}
