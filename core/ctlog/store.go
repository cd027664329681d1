package ctlog

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/revocheck/revocheck/core/mapped"
)

// Store serves the log list of a cache (<data>/ctlogs/ctlogs.json) through
// core/mapped: a regular file of bounded size, opened relative to its
// directory, a new generation loaded when the file's identity changes. The
// list is parsed into the heap once per generation (a few hundred logs),
// so lookups never touch the file.
type Store struct{ st *mapped.Store[*List] }

// OpenStore opens the list under dataDir. It never fails: a missing list
// is a generation without one (Current returns nil), noticed when it
// appears. The owner polls (Poll), as the engine does on its gate.
func OpenStore(dataDir string) *Store {
	st, _ := mapped.Open(filepath.Join(dataDir, Dir), load, mapped.Options{Keys: []string{FileName}, Interval: -1})
	return &Store{st: st}
}

func load(b *mapped.Builder) (*List, error) {
	data, _, err := b.Read(FileName, MaxFileSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("ctlog: %w", err)
	}
	return Parse(data)
}

// Poll looks for a new list now (one stat).
func (s *Store) Poll() { s.st.Poll() }

// Refresh is Poll that waits for a load in progress and returns its error.
func (s *Store) Refresh() error { return s.st.Refresh() }

// Current returns the list in service and its generation number (which
// changes with every new list), or nil when there is none.
func (s *Store) Current() (*List, uint64) {
	g := s.st.Current() // the list lives on the heap: nothing mapped is kept
	if g == nil {
		return nil, 0
	}
	return g.V, g.Seq
}

// Err is why the store has no usable list (nil when it has one, or none
// exists).
func (s *Store) Err() error { return s.st.Err() }

// Close releases the store.
func (s *Store) Close() { s.st.Close() }
