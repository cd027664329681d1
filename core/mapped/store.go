package mapped

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Load builds a generation's value from the files of a directory, opened
// through b (which keeps their mappings for the generation's life). It
// runs with memory faults turned into errors. Returning an error that
// wraps ErrChanged asks for a fresh attempt (the directory changed under
// the load); other errors keep the previous generation in service.
type Load[T any] func(b *Builder) (T, error)

// ErrChanged: what the load read is no longer consistent (a file named by
// another vanished: a writer replaced them meanwhile). The load is retried.
var ErrChanged = errors.New("the directory changed during the load")

// Options tune a Store. The zero value is the production default.
type Options struct {
	// Keys are the files whose identities mark a generation: when one of
	// them changes, a new generation is loaded (the writer replaces them
	// last, after the files they name).
	Keys []string
	// Interval is how often, at most, Acquire stats the keys. 0 means
	// 1 s; negative means never: the owner calls Poll or Refresh (the
	// engine does, for all its sources, on its own once-a-second gate).
	Interval time.Duration
	// Retries bounds how often a load that returned ErrChanged restarts;
	// the last attempt runs with Builder.Final set. 0 means 3.
	Retries int
	// OnRetry, when set, runs before each retry (tests play the writer).
	OnRetry func()
}

// Gen is one immutable generation: its value and the mappings it reads.
// Readers pin it with Store.Acquire and let go with Release; the mappings
// are unmapped when the last reference goes, so nobody reads unmapped
// memory.
type Gen[T any] struct {
	V     T
	Seq   uint64 // 1 for the first generation a Store loads, then +1 each
	Stamp []ID   // identities of the keys this generation was loaded from
	refs  atomic.Int64
	maps  []*File
}

// tryAcquire takes a reference unless g is retired (refs reached 0: its
// mappings are gone or going). A compare-and-swap, not an add: an add on a
// retired generation could be seen as live by a second reader before the
// first undid it.
func (g *Gen[T]) tryAcquire() bool {
	for {
		n := g.refs.Load()
		if n <= 0 {
			return false
		}
		if g.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Release ends a reader's use of the generation.
func (g *Gen[T]) Release() {
	if g.refs.Add(-1) == 0 {
		for _, f := range g.maps {
			f.Close()
		}
	}
}

// Store holds the current generation of one directory's data. Safe for
// concurrent use.
type Store[T any] struct {
	dir      string
	load     Load[T]
	opts     Options
	interval int64 // ns; < 0: owner-driven

	cur      atomic.Pointer[Gen[T]]
	lastStat atomic.Int64 // mono() of the last stat
	lastErr  atomic.Pointer[error]
	closed   atomic.Bool

	mu     sync.Mutex // serializes loads and Close
	seq    uint64
	failed []ID // stamp of the last failed load: not retried until it changes
}

var epoch = time.Now()

// mono is the monotonic clock of the gates (ns since the package loaded).
func mono() int64 { return int64(time.Since(epoch)) }

// Open returns a Store for dir and loads its first generation. The error
// is that load's: the Store is usable anyway (Acquire returns nil until a
// load succeeds) and keeps looking for data.
func Open[T any](dir string, load Load[T], opts Options) (*Store[T], error) {
	s := &Store[T]{dir: dir, load: load, opts: opts, interval: int64(opts.Interval)}
	if s.interval == 0 {
		s.interval = int64(time.Second)
	}
	if s.opts.Retries <= 0 {
		s.opts.Retries = 3
	}
	s.lastStat.Store(mono())
	s.mu.Lock()
	defer s.mu.Unlock()
	return s, s.refreshLocked(true)
}

// Dir is the directory the Store reads.
func (s *Store[T]) Dir() string { return s.dir }

// Acquire pins the current generation (after the periodic stat, unless
// the Store is owner-driven); nil when there is none. Call Release.
func (s *Store[T]) Acquire() *Gen[T] {
	if s.interval >= 0 {
		s.gate()
	}
	for {
		g := s.cur.Load()
		if g == nil || g.tryAcquire() {
			return g
		}
		// g was retired between Load and tryAcquire; a newer one (or
		// nil, after Close) is already published.
	}
}

// Current is the current generation without pinning it or passing the
// gate: only for what the value keeps on the heap (never mapped bytes,
// which may be unmapped as soon as it returns); nil when there is none.
func (s *Store[T]) Current() *Gen[T] { return s.cur.Load() }

// gate stats the keys at most once per interval across all goroutines.
func (s *Store[T]) gate() {
	now := mono()
	last := s.lastStat.Load()
	if now-last < s.interval || !s.lastStat.CompareAndSwap(last, now) {
		return
	}
	s.Poll()
}

// Poll stats the keys now and loads a new generation if they changed,
// unless a load is already running (then it returns at once: the caller
// keeps the current generation).
func (s *Store[T]) Poll() {
	if !s.mu.TryLock() {
		return
	}
	defer s.mu.Unlock()
	_ = s.refreshLocked(false)
}

// Refresh stats the keys now and loads a new generation if they changed
// (or the last load failed), waiting for a load in progress. It returns
// the load error, if any; the previous generation stays in service.
func (s *Store[T]) Refresh() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastStat.Store(mono())
	return s.refreshLocked(true)
}

// ErrClosed: the Store was closed.
var ErrClosed = errors.New("closed")

func (s *Store[T]) refreshLocked(force bool) error {
	if s.closed.Load() {
		return ErrClosed
	}
	stamp := make([]ID, len(s.opts.Keys))
	for i, k := range s.opts.Keys {
		stamp[i] = Stat(filepath.Join(s.dir, k))
	}
	if g := s.cur.Load(); g != nil && slices.Equal(g.Stamp, stamp) {
		return nil
	}
	if !force && s.failed != nil && slices.Equal(s.failed, stamp) {
		if e := s.lastErr.Load(); e != nil {
			return *e
		}
		return nil // known bad; wait for the writer to replace it
	}
	g, err := s.loadGen(stamp)
	if err != nil {
		s.failed = stamp
		s.lastErr.Store(&err)
		return err
	}
	s.failed = nil
	s.seq++
	g.Seq = s.seq
	g.refs.Store(1) // the Store's own reference
	if old := s.cur.Swap(g); old != nil {
		old.Release()
	}
	s.lastErr.Store(nil)
	return nil
}

// loadGen runs the load, retrying (bounded) on ErrChanged.
func (s *Store[T]) loadGen(stamp []ID) (*Gen[T], error) {
	for attempt := 0; ; attempt++ {
		b := &Builder{dir: s.dir, keys: s.opts.Keys, stamp: slices.Clone(stamp), final: attempt >= s.opts.Retries}
		v, err := runLoad(b, s.load)
		if err == nil {
			return &Gen[T]{V: v, Stamp: b.stamp, maps: b.maps}, nil
		}
		b.release()
		if !errors.Is(err, ErrChanged) || attempt >= s.opts.Retries {
			return nil, err
		}
		if s.opts.OnRetry != nil {
			s.opts.OnRetry()
		}
		// The writer renames the key file before removing old files, so
		// the newer one is already visible; back off a moment in case it
		// is mid-rename.
		time.Sleep(time.Duration(attempt) * time.Millisecond)
		for i, k := range s.opts.Keys {
			stamp[i] = Stat(filepath.Join(s.dir, k))
		}
	}
}

// Err is the last load's error (nil after a successful load).
func (s *Store[T]) Err() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if e := s.lastErr.Load(); e != nil {
		return *e
	}
	return nil
}

// Close retires the current generation (unmapped once running readers are
// done). Acquire returns nil afterwards.
func (s *Store[T]) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed.Store(true)
	if g := s.cur.Swap(nil); g != nil {
		g.Release()
	}
}

// Builder opens the files of one load, relative to the directory as it was
// when the load began, and keeps their mappings for the generation.
type Builder struct {
	dir    string
	dirfd  int
	dirErr error
	keys   []string
	stamp  []ID
	maps   []*File
	final  bool
}

// Dir is the directory being loaded.
func (b *Builder) Dir() string { return b.dir }

// Final reports the last attempt: a vanished file is then to be recorded
// as that file's error rather than returned as ErrChanged.
func (b *Builder) Final() bool { return b.final }

// runLoad runs load with b's directory open and memory faults guarded.
func runLoad[T any](b *Builder, load Load[T]) (v T, err error) {
	// A directory that cannot be opened is an error of every file the
	// load asks for: the load decides what a missing file means.
	if fd, err := openDir(b.dir); err != nil {
		b.dirErr = err
	} else {
		b.dirfd = fd
		defer closeDir(fd)
	}
	defer Guard(debug.SetPanicOnFault(true), &err)
	return load(b)
}

func (b *Builder) release() {
	for _, f := range b.maps {
		f.Close()
	}
	b.maps = nil
}

// Map maps name (a file of the directory; see package comment for what is
// refused) for the generation's life; limit bounds its size (0: MaxSize).
// A key file's identity as opened becomes the generation's stamp, so a
// replacement between the stat and the open is noticed next time.
func (b *Builder) Map(name string, limit int64) ([]byte, ID, error) {
	f, err := b.open(name, limit, true)
	if err != nil {
		return nil, ID{}, err
	}
	if f.unmap != nil {
		b.maps = append(b.maps, f)
	}
	return f.Data, f.ID, nil
}

// Read is Map for a small file parsed once: the bytes are copied to the
// heap and nothing stays mapped.
func (b *Builder) Read(name string, limit int64) ([]byte, ID, error) {
	f, err := b.open(name, limit, false)
	if err != nil {
		return nil, ID{}, err
	}
	return f.Data, f.ID, nil
}

func (b *Builder) open(name string, limit int64, mapIt bool) (*File, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	if b.dirErr != nil {
		return nil, b.dirErr
	}
	f, err := openFile(b.dirfd, name, limit, mapIt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(b.dir, name), unwrapPath(err))
	}
	if i := slices.Index(b.keys, name); i >= 0 {
		b.stamp[i] = f.ID
	}
	return f, nil
}

// unwrapPath drops the *fs.PathError's own path (the name relative to
// the directory): the caller puts the full path in front.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
