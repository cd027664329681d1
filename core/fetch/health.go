package fetch

import (
	"fmt"
	"github.com/revocheck/revocheck/core/httpget"
	"github.com/revocheck/revocheck/core/mapped"
	"io"
	"path/filepath"
	"time"

	"github.com/revocheck/revocheck/core/crlset"
	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"
)

// Health is what a cache directory holds, judged the way readers will
// judge it: the fetch unit fails on a problem, `revocheck status` prints it
// first. Revocation that silently stops (never fetched, a wrong url, a
// mirror gone for weeks) is the failure this exists to make loud.
type Health struct {
	Dir         string
	Filters     int       // files index.bin names (0: no clubcard data)
	GeneratedAt time.Time // the clubcard manifest's generated_at (zero: none)
	CRLSets     int       // files crlsets/manifest.json lists
	LastSuccess time.Time // the last completed fetch (zero: unknown)
	MaxAge      time.Duration
	Now         time.Time
}

// CheckHealth inspects dir. maxAge 0 disables the age checks.
func CheckHealth(dir string, maxAge time.Duration) Health {
	h := Health{Dir: dir, MaxAge: maxAge, Now: time.Now()}
	if data, err := readSmall(filepath.Join(dir, "index.bin"), 64<<20); err == nil {
		if ix, err := index.Parse(data); err == nil {
			h.Filters = len(ix.Filenames())
		}
	}
	if data, err := readSmall(filepath.Join(dir, "manifest.json"), manifest.MaxSize); err == nil {
		if m, err := manifest.Parse(data); err == nil {
			h.GeneratedAt = m.Time()
		}
	}
	if data, err := readSmall(filepath.Join(dir, crlset.Dir, "manifest.json"), MaxManifestSize); err == nil {
		if m, err := parseManifest(data, func(string) error { return nil }, false); err == nil {
			h.CRLSets = len(m.Files)
		}
	}
	if st := loadState(dir); st.LastSuccess > 0 {
		h.LastSuccess = time.Unix(st.LastSuccess, 0)
	}
	return h
}

// Absent reports a cache with no revocation data at all.
func (h Health) Absent() bool { return h.Filters == 0 && h.CRLSets == 0 }

// Stale reports clubcard data older than max-age.
func (h Health) Stale() bool {
	return h.MaxAge > 0 && h.Filters > 0 && !h.GeneratedAt.IsZero() && h.Now.Sub(h.GeneratedAt) > h.MaxAge
}

// Overdue reports a last successful fetch older than max-age.
func (h Health) Overdue() bool {
	return h.MaxAge > 0 && !h.LastSuccess.IsZero() && h.Now.Sub(h.LastSuccess) > h.MaxAge
}

// Problem is one line saying what is wrong, "" when nothing is.
func (h Health) Problem() string {
	since := func(t time.Time) string {
		return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), h.Now.Sub(t).Round(time.Minute))
	}
	switch {
	case h.Absent():
		return fmt.Sprintf("no revocation data in %s (never fetched, or the mirror has none): every check answers no_data", h.Dir)
	case h.Stale():
		return fmt.Sprintf("revocation data in %s is stale: generated %s, older than max-age %s: checks answer stale", h.Dir, since(h.GeneratedAt), h.MaxAge)
	case h.Overdue():
		return fmt.Sprintf("the last successful fetch into %s was %s, longer ago than max-age %s", h.Dir, since(h.LastSuccess), h.MaxAge)
	}
	return ""
}

// readSmall reads a regular file of at most limit bytes.
func readSmall(path string, limit int64) ([]byte, error) {
	// core/mapped opens as the checkers do: regular files only, never
	// blocking on a FIFO, bounded before reading.
	data, _, err := mapped.ReadFile(path, limit)
	return data, err
}

// Judge is the last word of a fetch: a failed run on a cache with no
// usable data says so on warn (the journal), and a run that succeeded but
// left no usable data fails, so that a machine whose revocation checking is
// off is never quiet about it. syncErr is Sync's error; the result is typed
// (httpget.KindOf tells what it means).
func Judge(syncErr error, dir string, maxAge time.Duration, warn io.Writer) error {
	p := CheckHealth(dir, maxAge).Problem()
	if syncErr != nil {
		if p != "" {
			fmt.Fprintf(warn, "revocheck: fetch: %s\n", p)
		}
		return httpget.Typed(syncErr)
	}
	if p != "" {
		return &httpget.Error{Err: fmt.Errorf("fetch: %s", p)}
	}
	return nil
}
