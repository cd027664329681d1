// Package ctlog is the Certificate Transparency log list of a cache: which
// logs exist, their keys, operators and states. It reads the canonical file
// (<data>/ctlogs/ctlogs.json, docs/FORMATS.md "CT log list") and builds it
// from the two shapes published upstream: Google's log list v3 (ParseV3,
// `revocheck mirror ctlogs`) and Mozilla's Remote Settings ct-logs records
// (ParseRecords, `revocheck mirror mozilla`).
package ctlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Dir is the subdirectory of a cache (and of a mirror tree) holding the log
// list and its manifest.
const Dir = "ctlogs"

// FileName is the canonical log-list file in Dir.
const FileName = "ctlogs.json"

// Format names the canonical file's version.
const Format = "revocheck-ctlogs/1"

// Bounds on what a list may hold: the real lists have ~150 logs, keys of
// 91 (P-256) to ~550 (RSA-4096) bytes.
const (
	MaxFileSize = 4 << 20
	maxLogs     = 4096
	maxKeyLen   = 4096
	maxText     = 512
)

// State is a log's state as the log lists define it.
type State uint8

const (
	Pending State = iota + 1
	Qualified
	Usable
	ReadOnly
	Retired
	Rejected
)

var stateNames = [...]string{Pending: "pending", Qualified: "qualified", Usable: "usable",
	ReadOnly: "readonly", Retired: "retired", Rejected: "rejected"}

func (s State) String() string {
	if int(s) < len(stateNames) && stateNames[s] != "" {
		return stateNames[s]
	}
	return "unknown"
}

// ParseState accepts the log lists' state names.
func ParseState(s string) (State, bool) {
	for i, n := range stateNames {
		if n != "" && n == s {
			return State(i), true
		}
	}
	return 0, false
}

// Log is one CT log.
type Log struct {
	ID          [32]byte // SHA-256 of Key (RFC 6962 §3.2 LogID)
	Key         []byte   // DER SubjectPublicKeyInfo
	Operator    string
	Description string
	URL         string
	MMD         int64 // maximum merge delay, seconds
	State       State
	// StateTime is when the log entered State (unix ms); 0 when the list
	// does not say (Mozilla's records).
	StateTime int64

	Public any // *ecdsa.PublicKey (P-256) or *rsa.PublicKey: parsed Key
}

// List is a validated log list.
type List struct {
	Source      string // where it was built from, for `revocheck status`
	GeneratedAt int64  // unix seconds
	Logs        []Log  // sorted by ID, IDs unique
}

// Find returns the log with id, or nil.
func (l *List) Find(id *[32]byte) *Log {
	i, ok := slices.BinarySearchFunc(l.Logs, *id, func(g Log, t [32]byte) int { return bytes.Compare(g.ID[:], t[:]) })
	if !ok {
		return nil
	}
	return &l.Logs[i]
}

// fileJSON is the canonical file.
type fileJSON struct {
	Format      string    `json:"format"`
	Source      string    `json:"source"`
	GeneratedAt int64     `json:"generated_at"`
	Logs        []logJSON `json:"logs"`
}

type logJSON struct {
	LogID       string `json:"log_id"` // base64 std
	Key         string `json:"key"`    // base64 std, DER SPKI
	Operator    string `json:"operator"`
	Description string `json:"description"`
	URL         string `json:"url,omitempty"`
	MMD         int64  `json:"mmd"`
	State       string `json:"state"`
	StateTime   int64  `json:"state_time_ms,omitempty"`
}

// Parse reads the canonical file. Every log is checked: its id is the
// SHA-256 of its key, the key is ECDSA P-256 or RSA (2048 to 4096 bits),
// the state is known, ids are unique. One bad log makes the whole file bad:
// a writer produced it from validated data, so damage means the file is not
// what it claims.
func Parse(data []byte) (*List, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("ctlog: %d bytes, more than %d", len(data), MaxFileSize)
	}
	var f fileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("ctlog: %v", err)
	}
	if dec.More() {
		return nil, errors.New("ctlog: trailing data")
	}
	if f.Format != Format {
		return nil, fmt.Errorf("ctlog: format %q, want %q", f.Format, Format)
	}
	if len(f.Logs) > maxLogs {
		return nil, fmt.Errorf("ctlog: %d logs, more than %d", len(f.Logs), maxLogs)
	}
	l := &List{Source: f.Source, GeneratedAt: f.GeneratedAt, Logs: make([]Log, 0, len(f.Logs))}
	for i, j := range f.Logs {
		st, ok := ParseState(j.State)
		if !ok {
			return nil, fmt.Errorf("ctlog: log %d: unknown state %q", i, j.State)
		}
		g, err := newLog(j.LogID, j.Key, j.Operator, j.Description, j.URL, j.MMD, st, j.StateTime)
		if err != nil {
			return nil, fmt.Errorf("ctlog: log %d: %v", i, err)
		}
		l.Logs = append(l.Logs, g)
	}
	if err := l.sortUnique(); err != nil {
		return nil, err
	}
	return l, nil
}

// Marshal writes the canonical file (logs sorted by id).
func (l *List) Marshal() ([]byte, error) {
	if err := l.sortUnique(); err != nil {
		return nil, err
	}
	f := fileJSON{Format: Format, Source: l.Source, GeneratedAt: l.GeneratedAt, Logs: make([]logJSON, 0, len(l.Logs))}
	for _, g := range l.Logs {
		f.Logs = append(f.Logs, logJSON{
			LogID: base64.StdEncoding.EncodeToString(g.ID[:]), Key: base64.StdEncoding.EncodeToString(g.Key),
			Operator: g.Operator, Description: g.Description, URL: g.URL, MMD: g.MMD,
			State: g.State.String(), StateTime: g.StateTime,
		})
	}
	out, err := json.MarshalIndent(&f, "", " ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func (l *List) sortUnique() error {
	slices.SortFunc(l.Logs, func(a, b Log) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	for i := 1; i < len(l.Logs); i++ {
		if l.Logs[i].ID == l.Logs[i-1].ID {
			return fmt.Errorf("ctlog: log id %s appears twice", base64.StdEncoding.EncodeToString(l.Logs[i].ID[:]))
		}
	}
	return nil
}

// newLog validates one log's fields; id may be "" (then computed from key).
func newLog(id, key, operator, desc, url string, mmd int64, st State, stTime int64) (Log, error) {
	var g Log
	if len(key) > 2*maxKeyLen {
		return g, errors.New("key too long")
	}
	der, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(der) == 0 {
		return g, fmt.Errorf("key: not base64 DER")
	}
	g.ID = sha256.Sum256(der)
	if id != "" {
		raw, err := base64.StdEncoding.DecodeString(id)
		if err != nil || len(raw) != 32 {
			return g, fmt.Errorf("log_id %q: not 32 bytes of base64", id)
		}
		if !bytes.Equal(raw, g.ID[:]) {
			return g, fmt.Errorf("log_id %s is not the SHA-256 of its key", id)
		}
	}
	pub, err := ParseKey(der)
	if err != nil {
		return g, err
	}
	for _, s := range []string{operator, desc, url} {
		if len(s) > maxText || !utf8.ValidString(s) {
			return g, errors.New("a text field is too long or not UTF-8")
		}
	}
	if strings.TrimSpace(operator) == "" {
		return g, errors.New("no operator")
	}
	if mmd < 0 || stTime < 0 {
		return g, errors.New("negative mmd or state time")
	}
	g.Key, g.Public, g.Operator, g.Description, g.URL, g.MMD, g.State, g.StateTime = der, pub, operator, desc, url, mmd, st, stTime
	return g, nil
}


// Operators counts the distinct operators of the list.
func (l *List) Operators() int {
	seen := map[string]bool{}
	for _, g := range l.Logs {
		seen[g.Operator] = true
	}
	return len(seen)
}
