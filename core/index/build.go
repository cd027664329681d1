package index

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// Coverage is one (log, interval) pair a filter covers; timestamps are
// inclusive milliseconds. It has the same fields as clubcard.CoverageEntry,
// so a conversion index.Coverage(e) works; it is declared here so that this
// package depends on no other revocheck package.
type Coverage struct {
	LogID     [32]byte
	Low, High uint64
}

// FileCoverage names one filter file and the coverage it contributes.
type FileCoverage struct {
	Name     string
	Coverage []Coverage
}

// Build encodes an upkiidx1 index. The filename table follows the order of
// files; within a log, entries keep that order too, so a reader meets
// earlier files first. Names must pass the checks Parse applies, must be
// distinct, and every interval must have Low <= High.
func Build(files []FileCoverage) ([]byte, error) {
	if len(files) > MaxFilenames1 {
		return nil, fmt.Errorf("index: %d files exceed the format's limit of %d", len(files), MaxFilenames1)
	}
	byLog := make(map[[32]byte][]Entry)
	seen := make(map[string]bool, len(files))
	for i, f := range files {
		if err := checkName(f.Name); err != nil {
			return nil, fmt.Errorf("index: %v", err)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("index: duplicate filename %q", f.Name)
		}
		seen[f.Name] = true
		for _, c := range f.Coverage {
			if c.Low > c.High {
				return nil, fmt.Errorf("index: %s: coverage interval [%d, %d] is empty", f.Name, c.Low, c.High)
			}
			byLog[c.LogID] = append(byLog[c.LogID], Entry{FilterIdx: uint16(i), Min: c.Low, Max: c.High})
		}
	}
	logs := make([][32]byte, 0, len(byLog))
	for id, es := range byLog {
		if len(es) > MaxEntries {
			return nil, fmt.Errorf("index: log %x has %d entries, more than %d", id[:8], len(es), MaxEntries)
		}
		logs = append(logs, id)
	}
	slices.SortFunc(logs, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })

	size := header1Size + len(files)*NameSize + len(logs)*dirEntrySize
	total := size
	for _, id := range logs {
		total += len(byLog[id]) * entry1Size
	}
	b := cryptobyte.NewFixedBuilder(make([]byte, 0, total))
	b.AddBytes([]byte(Magic1))
	b.AddUint16(uint16(len(files)))
	b.AddUint32(uint32(len(logs)))
	for _, f := range files {
		var slot [NameSize]byte
		copy(slot[:], f.Name)
		b.AddBytes(slot[:])
	}
	off := uint64(size)
	for _, id := range logs {
		b.AddBytes(id[:])
		b.AddUint64(off)
		b.AddUint16(uint16(len(byLog[id])))
		off += uint64(len(byLog[id]) * entry1Size)
	}
	for _, id := range logs {
		for _, e := range byLog[id] {
			b.AddUint16(e.FilterIdx)
			b.AddUint64(e.Min)
			b.AddUint64(e.Max)
		}
	}
	return b.Bytes()
}
