package fetch

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// StateName is the small file in the cache directory that remembers the
// validators of the last manifest response, for conditional requests.
const StateName = ".fetch-state.json"

// treeState is what one tree (the clubcard tree or crlsets/) remembers.
type treeState struct {
	URL          string `json:"url"`                     // manifest URL the validators belong to
	ETag         string `json:"etag,omitempty"`          // for If-None-Match
	LastModified string `json:"last_modified,omitempty"` // for If-Modified-Since, verbatim
	// ManifestSHA256 is the hash of the manifest.json the sync wrote. The
	// validators are used only while the local manifest still has it, so a
	// damaged or hand-edited cache is never frozen by a 304.
	ManifestSHA256 string `json:"manifest_sha256"`
}

type state struct {
	Trees map[string]treeState `json:"trees"`
	// LastSuccess is when a sync last completed (unix seconds), for
	// `revocheck status`.
	LastSuccess int64 `json:"last_success,omitempty"`
}

// loadState reads the state; a missing or unreadable file is an empty
// state (the next request is simply unconditional).
func loadState(dir string) *state {
	s := &state{Trees: map[string]treeState{}}
	data, err := os.ReadFile(filepath.Join(dir, StateName))
	if err != nil || len(data) > 64<<10 {
		return s
	}
	if json.Unmarshal(data, s) != nil || s.Trees == nil {
		return &state{Trees: map[string]treeState{}}
	}
	return s
}

func (s *state) save(dir string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(dir, StateName, data)
}
