package cache

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"
	"github.com/revocheck/revocheck/core/mapped"
)

// maxFileSize bounds any file the cache maps (Mozilla's full filter is
// ~6 MB); maxManifestSize bounds manifest.json, read to the heap (a few KB).
const (
	maxFileSize     = mapped.MaxSize
	maxManifestSize = 16 << 20
)

const (
	indexName    = "index.bin"
	manifestName = "manifest.json"
)

// generation is one immutable, fully loaded view of the cache directory:
// the value of a mapped.Gen, which owns its mappings and reference count.
type generation struct {
	ix       *index.Index
	filters  []loadedFilter // by filename index
	dataTime int64          // unix ns; see Cache.DataTime

	// For an index of at most index.MaskFilters files (else nil/zero):
	// the filters by filename index (nil where unusable), and the sets of
	// unusable and inexact ones. See checkMasked.
	fptrs           []*clubcard.Filter
	broken, inexact uint64

	rows issuerRows // each issuer's blocks, found on its first check
	info GenerationInfo
}

type loadedFilter struct {
	f   *clubcard.Filter // nil when the file could not be used
	err error            // why f is nil
	// exact: every index entry naming this filter lies inside the
	// filter's own coverage, so an SCT that selected it through the index
	// is covered by it and the per-filter coverage scan (C2SP step 2.1)
	// can be skipped. Checked once per generation.
	exact bool
}

// loadGeneration builds a generation from the cache directory (see the
// package comment). A filter named by the index that does not exist means
// a newer index.bin replaced ours while we loaded: mapped.ErrChanged makes
// the Store start over (bounded), and on the last attempt the filter is
// recorded as broken instead.
func loadGeneration(b *mapped.Builder) (*generation, error) {
	g := &generation{info: GenerationInfo{Dir: b.Dir(), LoadedAt: time.Now()}}
	data, id, err := b.Map(indexName, maxFileSize)
	switch {
	case err == nil:
		g.ix, err = index.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, filepath.Join(b.Dir(), indexName), err)
		}
		g.info.Source = indexName
		g.info.IndexVersion = g.ix.Version()
		g.info.IndexSize = id.Size
		g.info.IndexModTime = time.Unix(0, id.Mtime)
		m, merr := readManifest(b)
		if merr == nil {
			g.info.Manifest = m
		} else if !errors.Is(merr, fs.ErrNotExist) {
			g.info.ManifestError = merr.Error()
		}
		if err := g.mapFilters(b, g.ix.Filenames()); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := g.loadFromManifest(b); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: %v", ErrNoData, err)
	}
	g.verifyCoverage()
	g.buildMasks()
	g.rows.init()
	g.summarize()
	return g, nil
}

// parseGuarded is clubcard.Parse with a memory fault (a filter truncated
// in place) turned into that filter's error instead of failing the load.
func parseGuarded(data []byte) (f *clubcard.Filter, err error) {
	defer mapped.Guard(debug.SetPanicOnFault(true), &err)
	return clubcard.Parse(data)
}

// buildMasks sets what checkMasked reads, when the index has masks.
func (g *generation) buildMasks() {
	if _, ok := g.ix.CoveringMask(&[32]byte{}, 0); !ok {
		return
	}
	g.fptrs = make([]*clubcard.Filter, len(g.filters))
	for i := range g.filters {
		lf := &g.filters[i]
		g.fptrs[i] = lf.f
		switch {
		case lf.f == nil:
			g.broken |= 1 << i
		case !lf.exact:
			g.inexact |= 1 << i
		}
	}
}

// verifyCoverage sets loadedFilter.exact: true unless some index entry
// naming the filter claims coverage the filter does not state.
func (g *generation) verifyCoverage() {
	sorted := make([]bool, len(g.filters))
	for i := range g.filters {
		lf := &g.filters[i]
		lf.exact = lf.f != nil
		if lf.exact {
			sorted[i] = slices.IsSortedFunc(lf.f.Coverage(), cmpCoverage)
		}
	}
	var es []index.Entry
	for i := range g.ix.NumLogs() {
		var id [32]byte
		id, es = g.ix.Log(i, es[:0])
		for _, e := range es {
			lf := &g.filters[e.FilterIdx]
			if !lf.exact {
				continue
			}
			cov := lf.f.Coverage()
			j := -1
			if sorted[e.FilterIdx] {
				if k, ok := slices.BinarySearchFunc(cov, id, func(c clubcard.CoverageEntry, id [32]byte) int {
					return bytes.Compare(c.LogID[:], id[:])
				}); ok {
					j = k
				}
			} else {
				j = slices.IndexFunc(cov, func(c clubcard.CoverageEntry) bool { return c.LogID == id })
			}
			lf.exact = j >= 0 && cov[j].Low <= e.Min && e.Max <= cov[j].High
		}
	}
}

func cmpCoverage(a, b clubcard.CoverageEntry) int { return bytes.Compare(a.LogID[:], b.LogID[:]) }

// mapFilters maps and parses every file in the filename table. A filter
// that is unusable does not fail the generation: checks it covers fail
// instead (outcome.Error), the others still work.
func (g *generation) mapFilters(b *mapped.Builder, names []string) error {
	g.filters = make([]loadedFilter, len(names))
	g.info.Files = make([]FileInfo, len(names))
	datas := make([][]byte, len(names))
	for i, name := range names {
		fi := &g.info.Files[i]
		fi.Name = name
		data, id, err := b.Map(name, maxFileSize)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if !b.Final() {
					return fmt.Errorf("%s: %w", name, mapped.ErrChanged)
				}
				err = fmt.Errorf("%s named by %s does not exist", name, indexName)
			}
			g.filters[i].err = fmt.Errorf("cache: filter %v", err)
			fi.Error = g.filters[i].err.Error()
			continue
		}
		fi.Size = id.Size
		fi.ModTime = time.Unix(0, id.Mtime)
		datas[i] = data
	}
	// One walk per filter validates it and notes its issuers' offsets;
	// for Mozilla's 36 filters that is a few hundred microseconds, less
	// than waking other threads to share it would cost.
	for i := range names {
		if datas[i] == nil {
			continue
		}
		fi := &g.info.Files[i]
		f, err := parseGuarded(datas[i])
		if err != nil {
			g.filters[i].err = fmt.Errorf("cache: filter %s: %w", names[i], err)
			fi.Error = g.filters[i].err.Error()
			continue
		}
		g.filters[i].f = f
		fi.Version = f.Version()
		fi.Issuers = f.NumIssuers()
		fi.Coverage = f.Coverage()
	}
	return nil
}

// loadFromManifest is the legacy path: a directory with manifest.json and
// filters but no index.bin (what Mozilla publishes, and what upki wrote
// before index.bin). The index is built in memory from each filter's own
// coverage, exactly as a writer would build index.bin. Every listed filter
// must be usable here: without it its coverage is unknown, and leaving it
// out could hide a revocation.
func (g *generation) loadFromManifest(b *mapped.Builder) error {
	dir := b.Dir()
	mp := filepath.Join(dir, manifestName)
	data, id, err := b.Read(manifestName, maxManifestSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: no %s or %s in %s", ErrNoData, indexName, manifestName, dir)
		}
		return fmt.Errorf("%w: %v", ErrNoData, err)
	}
	m, err := manifest.Parse(data)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, mp, err)
	}
	g.info.Source = manifestName
	g.info.Manifest = manifestInfo(m)
	names := make([]string, len(m.Files))
	for i, f := range m.Files {
		names[i] = f.Filename
	}
	if err := g.mapFilters(b, names); err != nil {
		return err
	}
	files := make([]index.FileCoverage, len(names))
	for i, lf := range g.filters {
		if lf.f == nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, lf.err)
		}
		files[i].Name = names[i]
		for _, c := range lf.f.Coverage() {
			files[i].Coverage = append(files[i].Coverage, index.Coverage(c))
		}
	}
	raw, err := index.Build(files)
	if err != nil {
		return fmt.Errorf("%w: building an index from %s: %v", ErrCorrupt, mp, err)
	}
	if g.ix, err = index.Parse(raw); err != nil {
		return fmt.Errorf("%w: in-memory index: %v", ErrCorrupt, err)
	}
	g.info.IndexVersion = g.ix.Version()
	g.info.IndexSize = int64(len(raw))
	g.info.IndexModTime = time.Unix(0, id.Mtime)
	return nil
}

// readManifest reads manifest.json for what status shows of it.
func readManifest(b *mapped.Builder) (*ManifestInfo, error) {
	data, _, err := b.Read(manifestName, maxManifestSize)
	if err != nil {
		return nil, err
	}
	m, err := manifest.Parse(data)
	if err != nil {
		return nil, err
	}
	return manifestInfo(m), nil
}

func manifestInfo(m *manifest.Manifest) *ManifestInfo {
	return &ManifestInfo{GeneratedAt: m.Time(), Comment: m.Comment, Files: len(m.Files)}
}

// summarize fills the coverage summary and the data time.
func (g *generation) summarize() {
	var es []index.Entry
	for i := range g.ix.NumLogs() {
		var id [32]byte
		id, es = g.ix.Log(i, es[:0])
		lc := LogCoverage{LogID: id, Entries: len(es)}
		for j, e := range es {
			if j == 0 || e.Min < lc.Min {
				lc.Min = e.Min
			}
			if e.Max > lc.Max {
				lc.Max = e.Max
			}
		}
		g.info.Logs = append(g.info.Logs, lc)
	}
	for _, f := range g.info.Files {
		// The full filter enrolls every issuer; deltas are built over the
		// same issuers, so the largest count is the enrolled population.
		g.info.EnrolledIssuers = max(g.info.EnrolledIssuers, f.Issuers)
		if f.Error != "" {
			g.info.BrokenFiles++
		}
	}
	switch {
	case g.info.Manifest != nil:
		g.dataTime = g.info.Manifest.GeneratedAt.UnixNano()
	default:
		g.dataTime = g.info.IndexModTime.UnixNano()
	}
}
