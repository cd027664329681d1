package mirror

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/revocheck/revocheck/core/manifest"
)

// Record is one Remote Settings record of the cert-revocations or
// intermediates collection, reduced to what the mirror uses. Unknown fields
// (coverage, enrolledIssuers, filter_expression, schema...) are ignored.
type Record struct {
	ID                 string      `json:"id"`
	Incremental        bool        `json:"incremental"`
	Parent             string      `json:"parent"` // id of the previous record of a delta chain
	Channel            string      `json:"channel"`
	EffectiveTimestamp int64       `json:"effectiveTimestamp"` // ms
	LastModified       int64       `json:"last_modified"`      // ms
	Attachment         *Attachment `json:"attachment"`
	// Intermediates only.
	DERHash string `json:"derHash"` // base64 SHA-256 of the certificate DER
}

// Attachment locates a record's file on the attachments server.
type Attachment struct {
	Location string `json:"location"` // relative to the attachments base URL
	Hash     string `json:"hash"`     // SHA-256, lowercase hex
	Size     int64  `json:"size"`
	Filename string `json:"filename"`
}

// maxRecords bounds a collection (intermediates has a few thousand).
const maxRecords = 200000

// ParseRecords decodes a Remote Settings records listing, {"data": [...]},
// and checks every record: a non-empty id, and, where an attachment is
// present, a safe location, a 64-hex-digit hash and a size in range. It
// never panics on bad input.
func ParseRecords(data []byte) ([]Record, error) {
	var doc struct {
		Data *[]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("mirror: records: %v", err)
	}
	if doc.Data == nil {
		return nil, errors.New(`mirror: records: no "data" list`)
	}
	if len(*doc.Data) > maxRecords {
		return nil, fmt.Errorf("mirror: records: %d records, more than %d", len(*doc.Data), maxRecords)
	}
	out := make([]Record, 0, len(*doc.Data))
	seen := make(map[string]bool, len(*doc.Data))
	for i, raw := range *doc.Data {
		var r struct {
			Record
			Parent *string `json:"parent"` // null or absent for full filters
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("mirror: record %d: %v", i, err)
		}
		if r.Parent != nil {
			r.Record.Parent = *r.Parent
		}
		rec := r.Record
		if rec.ID == "" {
			return nil, fmt.Errorf("mirror: record %d: no id", i)
		}
		if seen[rec.ID] {
			return nil, fmt.Errorf("mirror: record id %q appears twice", rec.ID)
		}
		seen[rec.ID] = true
		if rec.Attachment != nil {
			if err := rec.Attachment.check(); err != nil {
				return nil, fmt.Errorf("mirror: record %q: %v", rec.ID, err)
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

// maxAttachment bounds one attachment (a full filter is ~6 MB today).
const maxAttachment = 1 << 30

func (a *Attachment) check() error {
	if len(a.Hash) != 64 || strings.Trim(a.Hash, "0123456789abcdef") != "" {
		return fmt.Errorf("attachment hash %q is not 64 lowercase hex digits", a.Hash)
	}
	if a.Size < 0 || a.Size > maxAttachment {
		return fmt.Errorf("attachment size %d out of range", a.Size)
	}
	return checkLocation(a.Location)
}

// checkLocation accepts a relative URL path: no scheme, no leading '/', no
// "." or ".." segment, no query or fragment, printable ASCII only.
func checkLocation(loc string) error {
	if loc == "" || len(loc) > 1024 || strings.HasPrefix(loc, "/") {
		return fmt.Errorf("attachment location %q is not a relative path", loc)
	}
	for i := 0; i < len(loc); i++ {
		c := loc[i]
		if c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '\\' || c == ':' || c == '%' {
			return fmt.Errorf("attachment location %q has a forbidden character", loc)
		}
	}
	for _, seg := range strings.Split(loc, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("attachment location %q has an empty, \".\" or \"..\" segment", loc)
		}
	}
	return nil
}

// maxChain bounds a delta chain (Mozilla publishes ~4 deltas a day between
// full filters).
const maxChain = 10000

// Chain picks, among the records of channel, the newest full filter
// (incremental false) and the deltas whose parent chain leads back to it,
// in order: full filter first, then each delta after its parent. When a
// record has several children, the newest continues the chain. Every
// record of the chain must carry an attachment with a file name that
// manifest.json and index.bin accept.
func Chain(records []Record, channel string) ([]Record, error) {
	var full *Record
	children := map[string][]*Record{}
	for i := range records {
		r := &records[i]
		if r.Channel != channel {
			continue
		}
		if !r.Incremental {
			if full == nil || newer(r, full) {
				full = r
			}
			continue
		}
		if r.Parent != "" {
			children[r.Parent] = append(children[r.Parent], r)
		}
	}
	if full == nil {
		return nil, fmt.Errorf("mirror: no full filter in channel %q", channel)
	}
	chain := []Record{*full}
	seen := map[string]bool{full.ID: true}
	cur := full
	for {
		kids := children[cur.ID]
		if len(kids) == 0 {
			break
		}
		next := kids[0]
		for _, k := range kids[1:] {
			if newer(k, next) {
				next = k
			}
		}
		if seen[next.ID] {
			return nil, fmt.Errorf("mirror: delta chain loops at %q", next.ID)
		}
		if len(chain) >= maxChain {
			return nil, fmt.Errorf("mirror: delta chain longer than %d", maxChain)
		}
		seen[next.ID] = true
		chain = append(chain, *next)
		cur = next
	}
	names := map[string]bool{}
	for _, r := range chain {
		if r.Attachment == nil {
			return nil, fmt.Errorf("mirror: record %q has no attachment", r.ID)
		}
		if err := manifest.ValidateName(r.Attachment.Filename); err != nil {
			return nil, fmt.Errorf("mirror: record %q: %v", r.ID, err)
		}
		if strings.HasPrefix(r.Attachment.Filename, ".") || strings.Contains(r.Attachment.Filename, "\\") ||
			r.Attachment.Filename == "manifest.json" || r.Attachment.Filename == "index.bin" {
			return nil, fmt.Errorf("mirror: record %q: unusable file name %q", r.ID, r.Attachment.Filename)
		}
		if names[r.Attachment.Filename] {
			return nil, fmt.Errorf("mirror: file name %q used twice in the chain", r.Attachment.Filename)
		}
		names[r.Attachment.Filename] = true
	}
	return chain, nil
}

// newer orders records by effectiveTimestamp, then last_modified, then id.
func newer(a, b *Record) bool {
	if a.EffectiveTimestamp != b.EffectiveTimestamp {
		return a.EffectiveTimestamp > b.EffectiveTimestamp
	}
	if a.LastModified != b.LastModified {
		return a.LastModified > b.LastModified
	}
	return a.ID > b.ID
}
