package cache

import (
	"time"

	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/outcome"
)

// Detail reports how a check was answered (for the CLI's --json).
type Detail struct {
	Generation uint64         `json:"generation"`        // id of the generation consulted (0: none)
	NoSCTs     bool           `json:"no_scts,omitempty"` // answered not covered without the index
	Filters    []FilterResult `json:"filters"`           // every covering filter, in query order
}

// FilterResult is one covering filter's own answer: Revoked, NotRevoked,
// NotEnrolled or NotCovered, or Error when the file could not be used.
type FilterResult struct {
	Name   string          `json:"name"`
	Result outcome.Outcome `json:"result"`
	Error  string          `json:"error,omitempty"` // why the filter could not answer
}

func (d *Detail) reset() {
	d.Generation = 0
	d.NoSCTs = false
	d.Filters = d.Filters[:0]
}

// GenerationInfo describes a loaded generation (for `revocheck status`).
type GenerationInfo struct {
	ID            uint64        `json:"id"` // increases with every generation a Cache loads
	Dir           string        `json:"dir"`
	Source        string        `json:"source"`        // "index.bin", or "manifest.json" for a legacy directory
	IndexVersion  int           `json:"index_version"` // 1 (upkiidx1) or 0 (upkiidx0)
	IndexSize     int64         `json:"index_size"`
	IndexModTime  time.Time     `json:"index_mtime"`
	LoadedAt      time.Time     `json:"loaded_at"`
	Manifest      *ManifestInfo `json:"manifest,omitempty"` // nil without manifest.json
	ManifestError string        `json:"manifest_error,omitempty"`
	Files         []FileInfo    `json:"files"` // in index order
	Logs          []LogCoverage `json:"logs"`  // per log: the union of the index entries
	// EnrolledIssuers is the largest per-filter issuer count: the full
	// filter enrolls every issuer and deltas are built over the same ones.
	EnrolledIssuers int    `json:"enrolled_issuers"`
	BrokenFiles     int    `json:"broken_files"`         // files that could not be mapped or parsed
	LastError       string `json:"last_error,omitempty"` // the last failed reload, if any
}

// ManifestInfo is what status shows of manifest.json.
type ManifestInfo struct {
	GeneratedAt time.Time `json:"generated_at"`
	Comment     string    `json:"comment"`
	Files       int       `json:"files"`
}

// FileInfo describes one filter file of a generation.
type FileInfo struct {
	Name     string                   `json:"name"`
	Size     int64                    `json:"size"`
	ModTime  time.Time                `json:"mtime"`
	Version  int                      `json:"version"` // clubcard version (3 or 4)
	Issuers  int                      `json:"issuers"`
	Coverage []clubcard.CoverageEntry `json:"coverage"` // the filter's own coverage; shared, read-only
	Error    string                   `json:"error,omitempty"`
}

// LogCoverage is a covered timestamp range of one CT log (inclusive ms).
type LogCoverage struct {
	LogID   [32]byte `json:"log_id"`
	Min     uint64   `json:"min_timestamp"`
	Max     uint64   `json:"max_timestamp"`
	Entries int      `json:"entries,omitempty"` // index entries merged (Logs only)
}
