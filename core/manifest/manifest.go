// Package manifest reads and writes manifest.json as rustls/upki writes and
// serves it:
//
//	{"generated_at": 1774181961, "comment": "...",
//	 "files": [{"filename": "...", "size": 6126299, "hash": "<sha-256, lowercase hex>"}]}
//
// Older upki mirrors call the list "filters"; Parse accepts either key (not
// both) and Marshal always writes "files".
package manifest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxSize bounds the manifest Parse accepts. Mozilla's manifest lists ~40
// files (about 5 KB); 4 MiB leaves room for tens of thousands.
const MaxSize = 4 << 20

// MaxNameLen is the longest filename, in bytes: index.bin's slot size.
const MaxNameLen = 32

// ErrInvalid is wrapped by every error Parse returns for bad content.
var ErrInvalid = errors.New("manifest: invalid manifest.json")

// Manifest is the parsed manifest.json.
type Manifest struct {
	GeneratedAt int64  // unix seconds
	Comment     string // free text
	Files       []File
}

// File is one listed file.
type File struct {
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	Hash     string `json:"hash"` // SHA-256, 64 lowercase hex digits
}

// SHA256 returns Hash decoded. It assumes the File came from Parse (or
// passed Validate); otherwise it reports ok == false.
func (f *File) SHA256() (sum [32]byte, ok bool) {
	if !validHash(f.Hash) {
		return sum, false
	}
	_, err := hex.Decode(sum[:], []byte(f.Hash))
	return sum, err == nil
}

// Time is GeneratedAt as a time.Time.
func (m *Manifest) Time() time.Time { return time.Unix(m.GeneratedAt, 0) }

type wire struct {
	GeneratedAt *int64  `json:"generated_at"`
	Comment     *string `json:"comment"`
	Files       *[]File `json:"files,omitempty"`
	Filters     *[]File `json:"filters,omitempty"`
}

// Parse decodes and validates a manifest. generated_at and one of
// files/filters are required; comment may be absent. Unknown keys are
// ignored so that a newer upki's additions do not break older readers.
func Parse(data []byte) (*Manifest, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalid, len(data), MaxSize)
	}
	var w wire
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalid)
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalid)
	}
	m := &Manifest{}
	if w.GeneratedAt == nil {
		return nil, fmt.Errorf("%w: missing generated_at", ErrInvalid)
	}
	m.GeneratedAt = *w.GeneratedAt
	if w.Comment != nil {
		m.Comment = *w.Comment
	}
	switch {
	case w.Files != nil && w.Filters != nil:
		return nil, fmt.Errorf("%w: both files and filters present", ErrInvalid)
	case w.Files != nil:
		m.Files = *w.Files
	case w.Filters != nil:
		m.Files = *w.Filters
	default:
		return nil, fmt.Errorf("%w: missing files", ErrInvalid)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Validate checks what Parse checks: generated_at not negative, every file
// name valid and distinct, sizes not negative, hashes 64 lowercase hex.
func (m *Manifest) Validate() error {
	if m.GeneratedAt < 0 {
		return fmt.Errorf("%w: negative generated_at %d", ErrInvalid, m.GeneratedAt)
	}
	seen := make(map[string]bool, len(m.Files))
	for i, f := range m.Files {
		if err := ValidateName(f.Filename); err != nil {
			return fmt.Errorf("%w: file %d: %v", ErrInvalid, i, err)
		}
		if seen[f.Filename] {
			return fmt.Errorf("%w: duplicate file %q", ErrInvalid, f.Filename)
		}
		seen[f.Filename] = true
		if f.Size < 0 {
			return fmt.Errorf("%w: %s: negative size %d", ErrInvalid, f.Filename, f.Size)
		}
		if !validHash(f.Hash) {
			return fmt.Errorf("%w: %s: hash %q is not 64 lowercase hex digits", ErrInvalid, f.Filename, f.Hash)
		}
	}
	return nil
}

// Marshal validates m and encodes it with the "files" key, indented, with a
// final newline.
func (m *Manifest) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	files := m.Files
	if files == nil {
		files = []File{}
	}
	out, err := json.MarshalIndent(struct {
		GeneratedAt int64  `json:"generated_at"`
		Comment     string `json:"comment"`
		Files       []File `json:"files"`
	}{m.GeneratedAt, m.Comment, files}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// Lookup returns the entry named name.
func (m *Manifest) Lookup(name string) (File, bool) {
	for _, f := range m.Files {
		if f.Filename == name {
			return f, true
		}
	}
	return File{}, false
}

// ValidateName reports whether name may be used as a file in a cache
// directory: non-empty, at most 32 bytes of valid UTF-8 (index.bin's slot),
// no NUL, no '/', and not "." or ".." (or containing ".."), so that a name
// from the network can never leave the directory.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("empty file name")
	case len(name) > MaxNameLen:
		return fmt.Errorf("file name %q longer than %d bytes", name, MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("file name %q is not valid UTF-8", name)
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("file name %q contains '/' or NUL", name)
	case name == "." || strings.Contains(name, ".."):
		return fmt.Errorf("file name %q contains \"..\" or is \".\"", name)
	}
	return nil
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
