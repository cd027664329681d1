package intermediates

import (
	"errors"
	"io/fs"
	"runtime/debug"
	"sync"

	"github.com/revocheck/revocheck/core/cachedir"
	"github.com/revocheck/revocheck/core/mapped"
)

// Set is the index of one intermediates directory, opened on the first
// lookup (a process that never completes a chain maps nothing) and swapped
// for a new generation when the index file is replaced (a stat at most once
// a second, core/mapped). Safe for concurrent use.
type Set struct {
	dir  string
	once sync.Once
	st   *mapped.Store[*Index]
	mu   sync.Mutex // guards closed against the first open
	shut bool
}

// NewSet returns the Set of dir (normally <cache>/intermediates). It
// touches nothing.
func NewSet(dir string) *Set { return &Set{dir: dir} }

// Dir is the directory the set reads.
func (s *Set) Dir() string { return s.dir }

func load(b *mapped.Builder) (*Index, error) {
	data, _, err := b.Map(IndexFile, MaxIndexSize)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

func (s *Set) store() *mapped.Store[*Index] {
	s.once.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.shut {
			s.st, _ = mapped.Open(s.dir, load, mapped.Options{Keys: []string{IndexFile}})
		}
	})
	return s.st
}

// Find calls fn with each candidate for cert's missing issuer (see
// Index.Lookup; der is valid only during the call) and returns how many.
// No index (no synced set) is 0 candidates and no error; a damaged index
// is 0 and its error; a cert that does not parse is an error.
func (s *Set) Find(cert []byte, fn func(der []byte) bool) (n int, err error) {
	st := s.store()
	if st == nil {
		return 0, nil
	}
	g := st.Acquire()
	if g == nil {
		if e := st.Err(); !absent(e) {
			return 0, e
		}
		var k certKeys // a bad certificate is the caller's error, set or not
		return 0, certError(parseKeys(cert, &k))
	}
	defer g.Release()
	defer mapped.Guard(debug.SetPanicOnFault(true), &err)
	return g.V.Candidates(cert, fn)
}

// absent: no index to read, which is no set rather than a damaged one.
func absent(err error) bool {
	return err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, mapped.ErrClosed)
}

// Info describes the current index (loading it if needed): ok is false when
// there is none; err says why when it could not be read.
func (s *Set) Info() (ix Info, ok bool, err error) {
	st := s.store()
	if st == nil {
		return Info{}, false, mapped.ErrClosed
	}
	g := st.Acquire()
	if g == nil {
		if e := st.Err(); !absent(e) {
			return Info{}, false, e
		}
		return Info{}, false, nil
	}
	defer g.Release()
	return Info{Count: g.V.Count(), Size: g.V.Size, Meta: g.V.Meta}, true, nil
}

// Info is what `revocheck status` shows of an index.
type Info struct {
	Count int // certificates
	Size  int // bytes of the index file
	Meta  Meta
}

// Close releases the mapping (lookups running finish on their own
// reference); later lookups find nothing.
func (s *Set) Close() {
	s.mu.Lock()
	s.shut = true
	s.mu.Unlock()
	s.once.Do(func() {})
	if s.st != nil {
		s.st.Close()
	}
}

// WriteIndex replaces dir's index with b atomically (readers keep their
// generation until the rename, then pick the new one up).
func WriteIndex(dir string, b []byte) error { return cachedir.WriteFile(dir, IndexFile, b) }
