package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/revocheck/revocheck/core/mapped"
	"io"
	"time"

	"github.com/revocheck/revocheck/core/cascade"
	"github.com/revocheck/revocheck/core/clubcard"
)

const inspectUsage = `[--json] [--query KEY]... FILE...

Identifies each revocation data file by its bytes and prints what it is:
a clubcard (v3, or v4 of C2SP upki-revocation: coverage per CT log, issuers,
matrix sizes), a legacy CRLite MLBF filter cascade (version, hash mode, salt,
layers), a legacy CRLite stash (issuers, revoked serials), a cache's
index.bin (filters, coverage per CT log), a CRL set (CRL issuers, revoked
counts, update times) or a manifest.json (date, files, bytes). Each
--query KEY, ISSUER_SPKI_SHA256_HEX:SERIAL_HEX[:LOG_ID_HEX:TIMESTAMP_MS]
(the serial as the DER INTEGER's content bytes), is looked up in every
file as its own reader would: revoked, not_revoked, not_enrolled,
not_covered (a clubcard, when an SCT is given) or not_listed (a stash).
Only regular
files of at most 1 GiB are read. Exit status: 0 every file identified; 1 a
file could not be read or is none of these formats (the others are still
inspected).`

// maxInspectSize bounds a file inspect reads into memory: as large as the
// cache accepts a filter (core/cache), far above any real one.
const maxInspectSize = 1 << 30

// inspectLayer is one layer of a legacy cascade.
type inspectLayer struct {
	Bits      uint32 `json:"bits"`
	HashFuncs uint32 `json:"hash_functions"`
}

// inspectLog is one coverage entry of a clubcard.
type inspectLog struct {
	LogID  string `json:"log_id"` // hex
	FromMs uint64 `json:"from_ms"`
	ToMs   uint64 `json:"to_ms"`
	From   string `json:"from"` // RFC 3339, UTC
	To     string `json:"to"`
}

// inspectReport describes one file; the fields of other formats are omitted.
type inspectReport struct {
	File    string `json:"file"`
	Format  string `json:"format"` // "clubcard", "mlbf-cascade", "stash"
	Version int    `json:"version,omitempty"`
	Size    int64  `json:"size"`
	Issuers *int   `json:"issuers,omitempty"`
	// clubcard
	Coverage        []inspectLog `json:"coverage,omitempty"`
	InvertedIssuers *int         `json:"inverted_issuers,omitempty"`
	ApproxWords     *uint64      `json:"approximate_words,omitempty"`
	ExactWords      *uint64      `json:"exact_words,omitempty"`
	Exceptions      *int         `json:"exceptions,omitempty"`
	MaxApproxRank   *int         `json:"max_approximate_rank,omitempty"`
	// mlbf-cascade
	HashMode  string         `json:"hash_mode,omitempty"`
	Inverted  *bool          `json:"inverted,omitempty"`
	Salt      *string        `json:"salt,omitempty"` // hex
	Layers    []inspectLayer `json:"layers,omitempty"`
	TotalBits *uint64        `json:"total_bits,omitempty"`
	// stash
	RevokedSerials *int `json:"revoked_serials,omitempty"`
	// index.bin, crl set, manifest (inspect_more.go)
	Index    *inspectIndex    `json:"index,omitempty"`
	CRLSet   *inspectCRLSet   `json:"crlset,omitempty"`
	Manifest *inspectManifest `json:"manifest,omitempty"`
	// --query answers, in the order given
	Queries []inspectAnswer `json:"queries,omitempty"`

	answer func(*inspectKey) (answer, note string) // the format's own lookup
}

func cmdInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", inspectUsage, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per file, one per line")
	var keys []inspectKey
	fs.Func("query", "look up `KEY` (ISSUER_SPKI_SHA256_HEX:SERIAL_HEX[:LOG_ID_HEX:TIMESTAMP_MS]) in every file; repeatable", func(s string) error {
		k, err := parseInspectKey(s)
		keys = append(keys, k)
		return err
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("inspect: give at least one FILE")
	}
	failed, printed := 0, 0
	for _, path := range fs.Args() {
		r, err := inspectFile(path)
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "revocheck: error: %v\n", err)
			continue
		}
		for i := range keys {
			a, note := r.answer(&keys[i])
			r.Queries = append(r.Queries, inspectAnswer{Query: keys[i].text, Answer: a, Note: note})
		}
		if *asJSON {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s\n", b)
			continue
		}
		if printed++; printed > 1 {
			fmt.Fprintln(stdout)
		}
		r.print(stdout)
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("inspect: %d of %d file(s) not identified", failed, fs.NArg())}
	}
	return nil
}

// readRegular reads path whole if it is a regular file of at most max
// bytes, opened as the checkers open cache files (core/mapped: never
// blocking on a FIFO, bounded before reading).
func readRegular(path string, max int64) ([]byte, error) {
	data, _, err := mapped.ReadFile(path, max)
	return data, err
}

// inspectFile identifies one file. The leading bytes choose the format
// (clubcard [3 0] or [4 0], cascade u16le 1 or 2); a stash has no
// magic, so it is tried when that format does not parse, and the first
// error is the one reported.
func inspectFile(path string) (*inspectReport, error) {
	data, err := readRegular(path, maxInspectSize)
	if err != nil {
		return nil, err
	}
	return identify(path, data)
}

// identify describes data, the contents of the file path.
func identify(path string, data []byte) (*inspectReport, error) {
	r := &inspectReport{File: path, Size: int64(len(data))}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty file", path)
	}
	if ok, err := identifyMore(r, data); ok {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return r, nil
	}
	var first error
	switch {
	case len(data) >= 2 && (data[0] == 3 || data[0] == 4) && data[1] == 0:
		f, err := clubcard.Parse(data)
		if err == nil {
			r.clubcard(f)
			r.answer = func(k *inspectKey) (string, string) { return clubcardAnswer(f, k) }
			return r, nil
		}
		first = err
	case len(data) >= 2 && (data[0] == 1 || data[0] == 2) && data[1] == 0:
		c, err := cascade.Parse(data)
		if err == nil {
			r.cascade(c)
			r.answer = func(k *inspectKey) (string, string) { return cascadeAnswer(c, k) }
			return r, nil
		}
		first = err
	}
	s, err := cascade.ParseStash(data)
	if err == nil {
		r.Format = "stash"
		n, issuers := s.Len(), s.Issuers()
		r.Issuers, r.RevokedSerials = &issuers, &n
		r.answer = func(k *inspectKey) (string, string) { return stashAnswer(s, k) }
		return r, nil
	}
	if first == nil {
		head := data[:min(len(data), 4)]
		first = fmt.Errorf("its first bytes %x name no known version, and read as a stash: %w", head, err)
	}
	return nil, fmt.Errorf("%s: not a clubcard (v3, v4), legacy mlbf cascade or stash: %w", path, first)
}

func (r *inspectReport) clubcard(f *clubcard.Filter) {
	r.Format = "clubcard"
	r.Version = f.Version()
	n := f.NumIssuers()
	r.Issuers = &n
	for _, c := range f.Coverage() {
		r.Coverage = append(r.Coverage, inspectLog{LogID: hex.EncodeToString(c.LogID[:]),
			FromMs: c.Low, ToMs: c.High, From: msTime(c.Low), To: msTime(c.High)})
	}
	inverted, maxRank := 0, 0
	f.Issuers(func(i clubcard.IssuerInfo) bool {
		if i.Inverted {
			inverted++
		}
		maxRank = max(maxRank, i.ApproxRank)
		return true
	})
	approx, exact, exc := f.Stats()
	r.InvertedIssuers, r.MaxApproxRank = &inverted, &maxRank
	r.ApproxWords, r.ExactWords, r.Exceptions = &approx, &exact, &exc
}

func (r *inspectReport) cascade(c *cascade.Cascade) {
	r.Format = "mlbf-cascade"
	r.Version = c.Version()
	r.HashMode = c.HashAlg().String()
	inv, salt, bits := c.Inverted(), hex.EncodeToString(c.Salt()), c.BitCount()
	r.Inverted, r.Salt, r.TotalBits = &inv, &salt, &bits
	for i := range c.Layers() {
		b, h := c.LayerSize(i)
		r.Layers = append(r.Layers, inspectLayer{Bits: b, HashFuncs: h})
	}
}

// msTime formats a coverage bound; a hostile file may hold any uint64.
func msTime(ms uint64) string {
	if ms > 1<<53 {
		return "out of range"
	}
	return time.UnixMilli(int64(ms)).UTC().Format(time.RFC3339)
}

func (r *inspectReport) print(w io.Writer) {
	r.printMore(w)
	switch r.Format {
	case "clubcard":
		fmt.Fprintf(w, "%s: clubcard v%d\n", r.File, r.Version)
		fmt.Fprintf(w, "  size:        %d bytes\n", r.Size)
		fmt.Fprintf(w, "  issuers:     %d (%d inverted)\n", *r.Issuers, *r.InvertedIssuers)
		fmt.Fprintf(w, "  matrices:    approximate %d words (max rank %d), exact %d words, %d exceptions\n",
			*r.ApproxWords, *r.MaxApproxRank, *r.ExactWords, *r.Exceptions)
		fmt.Fprintf(w, "  coverage:    %d CT log(s)\n", len(r.Coverage))
		for _, l := range r.Coverage {
			fmt.Fprintf(w, "    %s  %s .. %s\n", l.LogID, l.From, l.To)
		}
	case "mlbf-cascade":
		fmt.Fprintf(w, "%s: legacy mlbf filter cascade v%d\n", r.File, r.Version)
		fmt.Fprintf(w, "  size:        %d bytes\n", r.Size)
		fmt.Fprintf(w, "  hash mode:   %s\n", r.HashMode)
		fmt.Fprintf(w, "  inverted:    %v\n", *r.Inverted)
		if *r.Salt == "" {
			fmt.Fprintf(w, "  salt:        none\n")
		} else {
			fmt.Fprintf(w, "  salt:        %d bytes, %s\n", len(*r.Salt)/2, *r.Salt)
		}
		fmt.Fprintf(w, "  layers:      %d (%d bits)\n", len(r.Layers), *r.TotalBits)
		for i, l := range r.Layers {
			fmt.Fprintf(w, "    %d: %d bits, %d hash function(s)\n", i+1, l.Bits, l.HashFuncs)
		}
	case "stash":
		fmt.Fprintf(w, "%s: legacy crlite stash\n", r.File)
		fmt.Fprintf(w, "  size:        %d bytes\n", r.Size)
		fmt.Fprintf(w, "  issuers:     %d\n", *r.Issuers)
		fmt.Fprintf(w, "  revoked:     %d serials\n", *r.RevokedSerials)
	}
	for _, q := range r.Queries {
		if q.Note != "" {
			fmt.Fprintf(w, "  query:       %s: %s (%s)\n", q.Query, q.Answer, q.Note)
		} else {
			fmt.Fprintf(w, "  query:       %s: %s\n", q.Query, q.Answer)
		}
	}
}
