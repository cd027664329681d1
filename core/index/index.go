// Package index reads and writes index.bin, the binary table of a C2SP
// upki-revocation cache directory that maps a (CT log id, SCT timestamp)
// pair to the filter files covering it.
//
// Two versions are read:
//
//	upkiidx1 (C2SP "Index file format"):
//	  header   magic[8] "upkiidx1", u16 num_filenames, u32 num_log_ids   (14 bytes)
//	  names    num_filenames × 32 bytes, UTF-8, zero-padded
//	  log dir  num_log_ids × (log_id[32], u64 offset, u16 num_entries)   (42 bytes each)
//	  entries  per log: num_entries × (u16 filter_idx, u64 min, u64 max)  (18 bytes each)
//
//	upkiidx0 (the format rustls/upki wrote before the spec; upki still reads it):
//	  identical except num_filenames and filter_idx are u8, so the header is
//	  13 bytes and an entry 17 bytes.
//
// All integers are big-endian. [Build] always writes upkiidx1.
//
// [Parse] reads the file with cryptobyte cursors and validates it once: every offset and count against the
// file size, every filter_idx against the filename table, the log directory's
// strict sort order, and that no two entry sections overlap. After that,
// [Index.AppendCovering] reads the mapped bytes without further checks and
// without allocating.
package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
)

// Wire constants (C2SP "Index file format").
const (
	Magic1 = "upkiidx1"
	Magic0 = "upkiidx0"

	NameSize      = 32 // one filename slot
	dirEntrySize  = 32 + 8 + 2
	header1Size   = 8 + 2 + 4
	header0Size   = 8 + 1 + 4
	entry1Size    = 2 + 8 + 8
	entry0Size    = 1 + 8 + 8
	MaxFilenames1 = 1<<16 - 1
	MaxEntries    = 1<<16 - 1 // per log, num_entries is a u16
)

// ErrMalformed is wrapped by every error Parse returns for bad bytes.
var ErrMalformed = errors.New("index: malformed index.bin")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Index is a parsed index.bin. It keeps a reference to the bytes given to
// Parse (typically a read-only memory mapping) and never copies them; the
// caller must keep them valid and unchanged for the Index's lifetime.
type Index struct {
	data      []byte
	version   int // 0 or 1
	names     []string
	numLogs   int
	dirOff    int // offset of the log directory
	entrySize int

	// Decoded at Parse (bounded by the file size) so that the lookup
	// scans native structs: every log's entries, contiguous, and per log
	// where they are and the union of their intervals, which rejects a
	// timestamp outside all of them (a certificate newer than the data)
	// without a scan.
	entries []Entry
	logs    []logSpan
	pfx     []uint64 // logPrefix of each log id, for findLog

	// For CoveringMask (at most MaskFilters names): each log's timeline
	// cut into pieces of constant covering set.
	segs   []segment
	masked bool
}

type logSpan struct {
	first, n       int
	lo, hi         uint64
	segFirst, segN int
}

// Entry is one coverage assertion: filenames[FilterIdx] covers the log for
// SCT timestamps Min <= t <= Max (milliseconds).
type Entry struct {
	FilterIdx uint16
	Min, Max  uint64
}

// Parse validates data as upkiidx1 or upkiidx0 and returns an Index that
// aliases it. The header, the tables and each entry section are read with
// one cursor each (cryptobyte); the offsets in the log directory say where
// the entry sections start.
func Parse(data []byte) (*Index, error) {
	if len(data) < 8 {
		return nil, malformed("truncated header (%d bytes)", len(data))
	}
	ix := &Index{data: data}
	s := cryptobyte.String(data[8:])
	var numNames int
	var numLogs uint32
	switch string(data[:8]) {
	case Magic1:
		var n uint16
		if !s.ReadUint16(&n) || !s.ReadUint32(&numLogs) {
			return nil, malformed("truncated header (%d bytes)", len(data))
		}
		ix.version, ix.entrySize, numNames = 1, entry1Size, int(n)
	case Magic0:
		var n uint8
		if !s.ReadUint8(&n) || !s.ReadUint32(&numLogs) {
			return nil, malformed("truncated header (%d bytes)", len(data))
		}
		ix.version, ix.entrySize, numNames = 0, entry0Size, int(n)
	default:
		return nil, malformed("bad magic %q", data[:8])
	}
	hdr := len(data) - len(s)

	// Bound both tables by the file size before allocating anything
	// proportional to the counts (C2SP "Malformed inputs").
	size := uint64(len(data))
	namesEnd := uint64(hdr) + uint64(numNames)*NameSize
	if namesEnd > size {
		return nil, malformed("filename table (%d names) exceeds file size %d", numNames, size)
	}
	dirEnd := namesEnd + uint64(numLogs)*dirEntrySize
	if dirEnd > size {
		return nil, malformed("log directory (%d logs) exceeds file size %d", numLogs, size)
	}
	ix.numLogs = int(numLogs)
	ix.dirOff = int(namesEnd)

	ix.names = make([]string, numNames)
	for i := range numNames {
		var slot []byte
		if !s.ReadBytes(&slot, NameSize) {
			return nil, malformed("filename %d: truncated", i)
		}
		n := bytes.IndexByte(slot, 0)
		if n < 0 {
			n = NameSize
		}
		name := string(slot[:n])
		if err := checkName(name); err != nil {
			return nil, malformed("filename %d: %v", i, err)
		}
		ix.names[i] = name
	}

	type span struct{ start, end uint64 }
	spans := make([]span, 0, ix.numLogs)
	ix.logs = make([]logSpan, 0, ix.numLogs)
	ix.pfx = make([]uint64, 0, ix.numLogs)
	var prev []byte
	for i := range ix.numLogs {
		var id []byte
		var off uint64
		var n16 uint16
		if !s.ReadBytes(&id, 32) || !s.ReadUint64(&off) || !s.ReadUint16(&n16) {
			return nil, malformed("log %d: truncated directory entry", i)
		}
		if i > 0 && bytes.Compare(prev, id) >= 0 {
			return nil, malformed("log directory not strictly sorted at entry %d", i)
		}
		prev = id
		ix.pfx = append(ix.pfx, logPrefix(id))
		n := uint64(n16)
		if off < dirEnd {
			return nil, malformed("log %d: entry section offset %d overlaps the header or tables (end %d)", i, off, dirEnd)
		}
		if off > size || n*uint64(ix.entrySize) > size-off {
			return nil, malformed("log %d: entry section [%d, +%d entries) exceeds file size %d", i, off, n, size)
		}
		ls := logSpan{first: len(ix.entries), n: int(n), lo: ^uint64(0)}
		if n > 0 {
			end := off + n*uint64(ix.entrySize)
			spans = append(spans, span{off, end})
			// Read in place (not through a helper taking &sec): a
			// cursor behind a pointer costs a write barrier per read.
			sec := cryptobyte.String(data[off:end])
			for !sec.Empty() {
				var ent Entry
				var ok bool
				if ix.version == 0 { // filter_idx is a u8
					var b uint8
					ok = sec.ReadUint8(&b)
					ent.FilterIdx = uint16(b)
				} else {
					ok = sec.ReadUint16(&ent.FilterIdx)
				}
				if !ok || !sec.ReadUint64(&ent.Min) || !sec.ReadUint64(&ent.Max) {
					return nil, malformed("log %d: truncated entry", i)
				}
				if int(ent.FilterIdx) >= numNames {
					return nil, malformed("log %d: filter_idx %d out of range (%d filenames)", i, ent.FilterIdx, numNames)
				}
				ix.entries = append(ix.entries, ent)
				ls.lo, ls.hi = min(ls.lo, ent.Min), max(ls.hi, ent.Max)
			}
		}
		ix.logs = append(ix.logs, ls)
	}
	// The file ends where its last table or entry section ends: bytes
	// after it are no part of the format (a writer's bug or an append),
	// and a reader that ignored them would accept what verify cannot
	// explain.
	end := dirEnd
	for _, sp := range spans {
		end = max(end, sp.end)
	}
	if end != size {
		return nil, malformed("%d trailing bytes after the last section (ends at %d of %d)", size-end, end, size)
	}
	slices.SortFunc(spans, func(a, b span) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return nil, malformed("entry sections overlap at offset %d", spans[i].start)
		}
	}
	if numNames <= MaskFilters {
		ix.buildMasks()
	}
	return ix, nil
}

// checkName applies the C2SP filename rules (at most 32 bytes of UTF-8, no
// NUL) plus what makes a name safe to join to the cache directory: non-empty,
// no '/', not "." or "..".
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty filename")
	case len(name) > NameSize:
		return fmt.Errorf("filename %q longer than %d bytes", name, NameSize)
	case !utf8.ValidString(name):
		return fmt.Errorf("filename %q is not valid UTF-8", name)
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("filename %q contains '/' or NUL", name)
	case name == "." || name == "..":
		return fmt.Errorf("filename %q is not a file name", name)
	}
	return nil
}

// Version is 1 for upkiidx1 and 0 for upkiidx0.
func (ix *Index) Version() int { return ix.version }

// Filenames is the filename table; a filter index is a position in it. The
// slice belongs to the Index and must not be modified.
func (ix *Index) Filenames() []string { return ix.names }

// NumLogs is the number of entries in the log directory.
func (ix *Index) NumLogs() int { return ix.numLogs }

// Log returns the i-th log directory entry's id and appends its entries to
// dst. It panics if i is out of range, like a slice index.
func (ix *Index) Log(i int, dst []Entry) ([32]byte, []Entry) {
	if i < 0 || i >= ix.numLogs {
		panic("index: log index out of range")
	}
	id := [32]byte(ix.data[ix.dirOff+i*dirEntrySize:])
	ls := ix.logs[i]
	return id, append(dst, ix.entries[ls.first:ls.first+ls.n]...)
}

// findLog binary-searches the sorted log directory for logID's position,
// on the ids' 8-byte prefixes; whole ids are compared only once prefixes
// match.
func (ix *Index) findLog(logID *[32]byte) (int, bool) {
	p := logPrefix(logID[:])
	lo, hi := 0, len(ix.pfx)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ix.pfx[mid] < p {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for ; lo < len(ix.pfx) && ix.pfx[lo] == p; lo++ {
		o := ix.dirOff + lo*dirEntrySize
		if sameID((*[32]byte)(ix.data[o:o+32]), logID) {
			return lo, true
		}
	}
	return 0, false
}

// sameID compares two ids as four words: inline, where == on [32]byte
// calls memequal (a check compares one id per SCT).
func sameID(a, b *[32]byte) bool {
	le := binary.LittleEndian
	return le.Uint64(a[:8])^le.Uint64(b[:8])|le.Uint64(a[8:16])^le.Uint64(b[8:16])|
		le.Uint64(a[16:24])^le.Uint64(b[16:24])|le.Uint64(a[24:])^le.Uint64(b[24:]) == 0
}

// AppendCovering appends to dst the filter index of every entry of logID
// whose interval contains ts (C2SP check procedure, step 1), skipping
// indices already in dst, so calling it once per SCT into the same slice
// yields the deduplicated set of covering filters in first-seen order. It
// scans every entry of the log: overlapping entries each name a covering
// filter. It does not allocate unless dst must grow.
func (ix *Index) AppendCovering(dst []uint16, logID *[32]byte, ts uint64) []uint16 {
	return ix.AppendCoveringSet(dst, nil, logID, ts)
}

// AppendCoveringSet is AppendCovering with the deduplication done through
// seen, a bit set of filter indices (bit i%64 of seen[i/64]) that it reads
// and updates: constant time per match instead of a scan of dst. Indices
// beyond the set's capacity fall back to the scan. Callers checking one
// certificate pass the same zeroed set for all its SCTs.
func (ix *Index) AppendCoveringSet(dst []uint16, seen []uint64, logID *[32]byte, ts uint64) []uint16 {
	i, ok := ix.findLog(logID)
	if !ok {
		return dst
	}
	ls := &ix.logs[i]
	if ts < ls.lo || ts > ls.hi {
		return dst
	}
	for _, e := range ix.entries[ls.first : ls.first+ls.n] {
		if ts < e.Min || ts > e.Max {
			continue
		}
		idx := e.FilterIdx
		if w := int(idx >> 6); w < len(seen) {
			bit := uint64(1) << (idx & 63)
			if seen[w]&bit != 0 {
				continue
			}
			seen[w] |= bit
		} else if slices.Contains(dst, idx) {
			continue
		}
		dst = append(dst, idx)
	}
	return dst
}
