package crlset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/clock"
)

// Dir is the directory of a cache (and of a mirror tree) that holds CRL sets
// and their own manifest, apart from the clubcard manifest that upki clients
// read.
const Dir = "crlsets"

// ManifestName is the file in Dir that lists the CRL sets.
const ManifestName = "manifest.json"

// Store serves lookups from every CRL set listed by <dir>/manifest.json.
// It holds one immutable generation (the mapped sets) and swaps in a new one
// when the manifest changes, checked with a stat at most once a second. Safe
// for concurrent use; lookups do not allocate.
type Store struct {
	dir     string
	gen     atomic.Pointer[generation]
	nextChk atomic.Int64 // tick() of the next allowed stat
	reload  sync.Mutex   // one reloader at a time; others keep the old generation
	closed  atomic.Bool
	now     func() time.Time // nil: the real clocks (tests set a fake one)
}

// generation is one consistent view: the sets of one manifest. Its mappings
// are released by a cleanup once no lookup holds it any more.
type generation struct {
	stamp  fileStamp
	sets   []*Set
	files  []string
	err    error // why the last load failed (nil when fine or absent)
	loaded time.Time
	shared map[string]struct{} // names under more than one issuer key (SharedNames)
	mapped *mappings           // owns the mappings behind sets; shared by copies of a generation
}

// mappings owns file mappings; a cleanup unmaps them once unreachable.
type mappings struct{ list []*mapping }

type fileStamp struct {
	ok          bool
	dev, ino    uint64
	size, mtime int64
}

type mapping struct{ b []byte }

// OpenStore opens the CRL sets in dir, normally <cache>/crlsets (see Dir).
// It never fails: a missing directory or manifest is an empty store, and a
// damaged one is reported by Status and retried later.
func OpenStore(dir string) *Store {
	s := &Store{dir: dir}
	s.gen.Store(s.load(fileStamp{}))
	s.nextChk.Store(s.tick() + int64(time.Second))
	return s
}

// tick is the reload gate's clock in ns. Every check reads it, so it is
// the monotonic clock: a wall-clock read costs about twice as much (60 ns
// on some VMs).
func (s *Store) tick() int64 { return s.tickAt(clock.Mono()) }

// tickAt is tick for a caller that has read clock.Mono() (mono) already.
func (s *Store) tickAt(mono int64) int64 {
	if s.now != nil {
		return s.now().UnixNano()
	}
	return mono
}

func (s *Store) wallNow() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// current returns the generation to use, reloading when the manifest
// changed. Lookups never wait for a reload in progress.
func (s *Store) current() *generation { return s.currentAt(clock.Mono()) }

func (s *Store) currentAt(mono int64) *generation {
	g := s.gen.Load()
	now := s.tickAt(mono)
	if now < s.nextChk.Load() || s.closed.Load() {
		return g
	}
	if !s.reload.TryLock() {
		return g
	}
	defer s.reload.Unlock()
	s.nextChk.Store(now + int64(time.Second))
	g = s.gen.Load()
	st := stat(filepath.Join(s.dir, ManifestName))
	if st == g.stamp && g.err == nil {
		return g
	}
	ng := s.load(st)
	if ng.err != nil && len(g.sets) > 0 {
		// Keep serving the last good generation; remember the error.
		kept := *g
		kept.err = ng.err
		kept.stamp = st
		ng = &kept
	}
	if !s.closed.Load() {
		s.gen.Store(ng)
	}
	return ng
}

func stat(path string) fileStamp {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileStamp{}
	}
	return fileStamp{ok: true, dev: uint64(st.Dev), ino: st.Ino, size: st.Size,
		mtime: st.Mtim.Sec*1e9 + st.Mtim.Nsec}
}

type manifestJSON struct {
	GeneratedAt int64       `json:"generated_at"`
	Files       []manifestF `json:"files"`
	Filters     []manifestF `json:"filters"`
}

type manifestF struct {
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	Hash     string `json:"hash"`
}

// load maps every set the manifest lists. A missing manifest is an empty,
// healthy generation.
func (s *Store) load(st fileStamp) *generation {
	g := &generation{stamp: st, loaded: s.wallNow()}
	mpath := filepath.Join(s.dir, ManifestName)
	if !st.ok {
		if st = stat(mpath); !st.ok {
			return g
		}
		g.stamp = st
	}
	raw, err := os.ReadFile(mpath)
	if err != nil {
		if os.IsNotExist(err) {
			return g
		}
		g.err = fmt.Errorf("crlset: %w", err)
		return g
	}
	var m manifestJSON
	if err := json.Unmarshal(raw, &m); err != nil {
		g.err = errorf("manifest: %v", err)
		return g
	}
	files := append(m.Files, m.Filters...)
	var maps []*mapping
	release := func() {
		for _, mp := range maps {
			unix.Munmap(mp.b)
		}
	}
	for _, f := range files {
		if err := ValidFilename(f.Filename); err != nil {
			g.err = err
			release()
			return g
		}
		if !strings.HasSuffix(f.Filename, ".crlset") {
			continue // other data types may share the manifest
		}
		b, err := mapFile(filepath.Join(s.dir, f.Filename), f.Size)
		if err != nil {
			g.err = err
			release()
			return g
		}
		set, err := Parse(b)
		if err != nil {
			unix.Munmap(b)
			g.err = fmt.Errorf("%s: %w", f.Filename, err)
			release()
			return g
		}
		maps = append(maps, &mapping{b: b})
		g.sets = append(g.sets, set)
		g.files = append(g.files, f.Filename)
	}
	var all []IssuerInfo
	for _, set := range g.sets {
		all = append(all, set.Issuers()...)
	}
	for _, sn := range SharedNames(all) {
		if g.shared == nil {
			g.shared = map[string]struct{}{}
		}
		g.shared[string(sn.Name)] = struct{}{}
	}
	if len(maps) > 0 {
		g.mapped = &mappings{list: maps}
		runtime.AddCleanup(g.mapped, func(ms []*mapping) {
			for _, mp := range ms {
				unix.Munmap(mp.b)
			}
		}, maps)
	}
	return g
}

// ValidFilename rejects manifest file names that could leave the directory.
func ValidFilename(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, "/\\\x00") ||
		name == "." || name == ".." || strings.HasPrefix(name, ".") {
		return errorf("bad file name %q in manifest", name)
	}
	return nil
}

func mapFile(path string, wantSize int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("crlset: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("crlset: %w", err)
	}
	if fi.Size() != wantSize {
		return nil, errorf("%s: size %d, manifest says %d", filepath.Base(path), fi.Size(), wantSize)
	}
	if fi.Size() < headerSize || fi.Size() > 1<<40 {
		return nil, errorf("%s: implausible size %d", filepath.Base(path), fi.Size())
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("crlset: mmap %s: %w", filepath.Base(path), err)
	}
	return b, nil
}

// Lookup asks every set of the current generation about the issuer key and
// serial (content bytes): covered when any set lists the issuer, revoked when
// any listing set has the serial.
func (s *Store) Lookup(issuerSPKIHash *[32]byte, serial []byte) (covered, revoked bool) {
	return s.LookupAt(issuerSPKIHash, serial, clock.Mono())
}

// LookupAt is Lookup for a caller that has read clock.Mono() (mono)
// already, so that one check reads the clock once.
func (s *Store) LookupAt(issuerSPKIHash *[32]byte, serial []byte, mono int64) (covered, revoked bool) {
	g := s.currentAt(mono)
	for _, set := range g.sets {
		c, r := set.Lookup(issuerSPKIHash, serial)
		covered = covered || c
		if r {
			revoked = true
			break
		}
	}
	runtime.KeepAlive(g)
	return covered, revoked
}

// LookupName is Lookup by the issuer's DER Name, the serial as DER INTEGER
// content bytes. It answers only for a name that every set of the generation
// gives to one issuer key: a name carried by two different keys (two CAs
// under one Name, or one CA that rolled its key) is not covered, because a
// revocation under one key says nothing about the other's certificates and
// the Name cannot tell them apart (docs/NSS.md "Shared issuer names").
func (s *Store) LookupName(issuerName, serial []byte) (covered, revoked bool) {
	g := s.current()
	if _, shared := g.shared[string(issuerName)]; shared {
		runtime.KeepAlive(g)
		return false, false
	}
	for _, set := range g.sets {
		c, r := set.LookupName(issuerName, serial)
		covered = covered || c
		if r {
			revoked = true
			break
		}
	}
	runtime.KeepAlive(g)
	return covered, revoked
}

// Status describes the current generation.
type Status struct {
	Dir     string
	Files   []string
	Issuers []IssuerInfo
	Entries uint64
	Err     error // last load error, if any (the previous good sets stay in use)
}

// Status reports what the store serves now.
func (s *Store) Status() Status {
	g := s.current()
	st := Status{Dir: s.dir, Files: g.files, Err: g.err}
	for _, set := range g.sets {
		for _, in := range set.Issuers() {
			in.Name = bytes.Clone(in.Name) // the mapping may go away after we return
			st.Issuers = append(st.Issuers, in)
		}
		st.Entries += set.NumEntries()
	}
	runtime.KeepAlive(g)
	return st
}

// Close drops the current generation; its mappings are released once no
// lookup uses them. Lookups after Close answer "not covered".
func (s *Store) Close() error {
	s.closed.Store(true)
	s.gen.Store(&generation{})
	return nil
}
