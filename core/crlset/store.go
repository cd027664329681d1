package crlset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/revocheck/revocheck/core/mapped"
)

// Dir is the directory of a cache (and of a mirror tree) that holds CRL sets
// and their own manifest, apart from the clubcard manifest that upki clients
// read.
const Dir = "crlsets"

// ManifestName is the file in Dir that lists the CRL sets.
const ManifestName = "manifest.json"

// Store serves lookups from every CRL set listed by <dir>/manifest.json.
// Its generations (the mapped sets of one manifest) live in a mapped.Store:
// a new one is loaded when the manifest changes, noticed by a stat at most
// once a second (or when the owner polls); lookups never wait for a load,
// do not allocate, and read mapped bytes with memory faults turned into
// "not covered" (a set truncated in place says nothing any more).
type Store struct {
	st    *mapped.Store[*generation]
	fault atomic.Pointer[error] // the last memory fault of a lookup
}

// generation is one consistent view: the sets of one manifest.
type generation struct {
	sets   []*Set
	files  []string
	shared map[string]struct{} // names under more than one issuer key (SharedNames)
}

// maxSetSize bounds one CRL set file; maxManifestSize the manifest.
const (
	maxSetSize      = mapped.MaxSize
	maxManifestSize = 16 << 20
)

// OpenStore opens the CRL sets in dir, normally <cache>/crlsets (see Dir).
// It never fails: a missing directory or manifest is an empty store, and a
// damaged one is reported by Status and retried when it changes.
func OpenStore(dir string) *Store { return openStore(dir, 0) }

// OpenStorePolled is OpenStore for an owner that looks for new data on
// its own gate: lookups never stat, the owner calls Poll.
func OpenStorePolled(dir string) *Store { return openStore(dir, -1) }

func openStore(dir string, interval time.Duration) *Store {
	st, _ := mapped.Open(dir, load, mapped.Options{Keys: []string{ManifestName}, Interval: interval})
	return &Store{st: st}
}

// Poll looks for a new manifest now (one stat), loading it if it changed.
func (s *Store) Poll() { s.st.Poll() }

// Refresh is Poll that waits for a load in progress and returns the load's
// error.
func (s *Store) Refresh() error { return s.st.Refresh() }

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

// load maps every set the manifest lists. A missing manifest (or
// directory) is an empty, healthy generation.
func load(b *mapped.Builder) (*generation, error) {
	g := &generation{}
	raw, _, err := b.Read(ManifestName, maxManifestSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return g, nil
		}
		return nil, fmt.Errorf("crlset: %w", err)
	}
	var m manifestJSON
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errorf("manifest: %v", err)
	}
	for _, f := range append(m.Files, m.Filters...) {
		if err := ValidFilename(f.Filename); err != nil {
			return nil, err
		}
		if !strings.HasSuffix(f.Filename, ".crlset") {
			continue // other data types may share the manifest
		}
		if f.Size < headerSize || f.Size > maxSetSize {
			return nil, errorf("%s: implausible size %d in the manifest", f.Filename, f.Size)
		}
		data, id, err := b.Map(f.Filename, f.Size)
		if err != nil {
			return nil, fmt.Errorf("crlset: %w", err)
		}
		if id.Size != f.Size {
			return nil, errorf("%s: size %d, manifest says %d", f.Filename, id.Size, f.Size)
		}
		set, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Filename, err)
		}
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
	return g, nil
}

// ValidFilename rejects manifest file names that could leave the directory.
func ValidFilename(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, "/\\\x00") ||
		name == "." || name == ".." || strings.HasPrefix(name, ".") {
		return errorf("bad file name %q in manifest", name)
	}
	return nil
}

// Lookup asks every set of the current generation about the issuer key and
// serial (content bytes): covered when any set lists the issuer, revoked when
// any listing set has the serial.
func (s *Store) Lookup(issuerSPKIHash *[32]byte, serial []byte) (covered, revoked bool) {
	g := s.st.Acquire()
	if g == nil {
		return false, false
	}
	prev := debug.SetPanicOnFault(true)
	defer func() {
		if err := mapped.Fault(prev, recover()); err != nil {
			covered, revoked = false, false
			s.noteFault(err)
		}
		g.Release()
	}()
	for _, set := range g.V.sets {
		c, r := set.Lookup(issuerSPKIHash, serial)
		covered = covered || c
		if r {
			return true, true
		}
	}
	return covered, false
}

// Err is why the store serves less than its manifest lists: the last load
// error, else the last memory fault of a lookup; nil when all is well.
func (s *Store) Err() error {
	if err := s.st.Err(); err != nil {
		return err
	}
	if e := s.fault.Load(); e != nil {
		return *e
	}
	return nil
}

// noteFault remembers a lookup's memory fault for Status (its own function:
// the error escapes only when there is one).
func (s *Store) noteFault(err error) { s.fault.Store(&err) }

// LookupName is Lookup by the issuer's DER Name, the serial as DER INTEGER
// content bytes. It answers only for a name that every set of the generation
// gives to one issuer key: a name carried by two different keys (two CAs
// under one Name, or one CA that rolled its key) is not covered, because a
// revocation under one key says nothing about the other's certificates and
// the Name cannot tell them apart (docs/NSS.md "Shared issuer names").
func (s *Store) LookupName(issuerName, serial []byte) (covered, revoked bool) {
	g := s.st.Acquire()
	if g == nil {
		return false, false
	}
	prev := debug.SetPanicOnFault(true)
	defer func() {
		if err := mapped.Fault(prev, recover()); err != nil {
			covered, revoked = false, false
			s.noteFault(err)
		}
		g.Release()
	}()
	if _, shared := g.V.shared[string(issuerName)]; shared {
		return false, false
	}
	for _, set := range g.V.sets {
		c, r := set.LookupName(issuerName, serial)
		covered = covered || c
		if r {
			return true, true
		}
	}
	return covered, false
}

// Status describes the current generation.
type Status struct {
	Dir     string
	Files   []string
	Issuers []IssuerInfo
	Entries uint64
	Err     error // last load error or lookup fault, if any (the previous good sets stay in use)
}

// Status reports what the store serves now.
func (s *Store) Status() (st Status) {
	st = Status{Dir: s.st.Dir(), Err: s.Err()}
	g := s.st.Acquire()
	if g == nil {
		return st
	}
	defer g.Release()
	defer mapped.Guard(debug.SetPanicOnFault(true), &st.Err)
	st.Files = g.V.files
	for _, set := range g.V.sets {
		for _, in := range set.Issuers() {
			in.Name = bytes.Clone(in.Name) // the mapping may go away after we return
			st.Issuers = append(st.Issuers, in)
		}
		st.Entries += set.NumEntries()
	}
	return st
}

// Close retires the current generation; its mappings are released once no
// lookup uses them. Lookups after Close answer "not covered".
func (s *Store) Close() error {
	s.st.Close()
	return nil
}
