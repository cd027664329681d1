package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/revocheck/revocheck/core/clubcard"
)

// An issuer's blocks are found on its first check and kept, so later checks
// neither binary-search each covering filter nor read blocks scattered over
// 36 files: one table probe, then one contiguous row. Nothing is built at
// load: a process that checks one chain (curl, wget) pays for the one or
// two issuers it meets, not for every enrolled issuer.

// issuerRow is one issuer's block in every filter of a generation, by
// filename index. Immutable once published.
type issuerRow struct {
	hash     [32]byte
	blocks   []clubcard.Block // nil: enrolled in no filter
	enrolled []uint64         // bit set by filename index; nil with blocks
}

func (r *issuerRow) isEnrolled(idx int) bool { return r.enrolled[idx/64]>>(idx%64)&1 == 1 }

// rowTable is an open-addressing hash table with linear probing, read
// without locks. Rows are only ever added; a full table is replaced by a
// larger copy, and readers of the old one still find what it held.
type rowTable struct {
	slots []atomic.Pointer[issuerRow] // len is a power of two
}

// maxRowBytes bounds what the rows of one generation may keep (Mozilla's
// ~1000 issuers × 36 filters need about 3.2 MB once all are seen); past
// it, checks of new issuers search each filter instead. A variable so
// tests can force that path.
var maxRowBytes = 16 << 20

// issuerRows is the generation's memo of issuer rows.
type issuerRows struct {
	seed  maphash.Seed
	tab   atomic.Pointer[rowTable]
	mu    sync.Mutex // serializes inserts
	n     int        // rows in tab
	bytes int        // what the rows and table keep
	// full: maxRowBytes reached. Read without the lock, so that checks of
	// new issuers past the bound do not all queue on mu.
	full atomic.Bool
}

// What a row keeps: itself, plus a block per filter and the enrolled set
// when enrolled anywhere.
const (
	rowSize   = int(unsafe.Sizeof(issuerRow{}))
	blockSize = int(unsafe.Sizeof(clubcard.Block{}))
)

func (r *issuerRows) init() {
	r.seed = maphash.MakeSeed()
	const n = 16 // a process that checks one chain needs a slot or two
	r.tab.Store(&rowTable{slots: make([]atomic.Pointer[issuerRow], n)})
	r.bytes = 8 * n
}

func (r *issuerRows) home(h *[32]byte, t *rowTable) int {
	// Keyed, so that chosen SPKI hashes cannot build long probe chains.
	return int(maphash.Bytes(r.seed, h[:]) & uint64(len(t.slots)-1))
}

func (r *issuerRows) find(t *rowTable, h *[32]byte) *issuerRow {
	mask := len(t.slots) - 1
	for i := r.home(h, t); ; i = (i + 1) & mask {
		row := t.slots[i].Load()
		if row == nil || row.hash == *h {
			return row
		}
	}
}

// row returns the issuer's row, building it on first sight; nil when the
// memo is full (the caller then searches each filter).
func (g *generation) row(h *[32]byte) *issuerRow {
	r := &g.rows
	if row := r.find(r.tab.Load(), h); row != nil || r.full.Load() {
		return row
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.tab.Load()
	if row := r.find(t, h); row != nil {
		return row
	}
	if r.full.Load() {
		return nil
	}
	row := &issuerRow{hash: *h}
	for j := range g.filters {
		f := g.filters[j].f
		if f == nil {
			continue
		}
		if i := f.Find(h); i >= 0 {
			if row.blocks == nil {
				row.blocks = make([]clubcard.Block, len(g.filters))
				row.enrolled = make([]uint64, (len(g.filters)+63)/64)
			}
			row.blocks[j] = f.Block(i)
			row.enrolled[j/64] |= 1 << (j % 64)
		}
	}
	cost := rowSize + blockSize*len(row.blocks) + 8*len(row.enrolled)
	grow := 2*(r.n+1) > len(t.slots)
	if grow {
		cost += 8 * 2 * len(t.slots)
	}
	if r.bytes+cost > maxRowBytes {
		r.full.Store(true)
		return nil
	}
	r.bytes += cost
	if grow {
		nt := &rowTable{slots: make([]atomic.Pointer[issuerRow], 2*len(t.slots))}
		for i := range t.slots {
			if old := t.slots[i].Load(); old != nil {
				r.insert(nt, old)
			}
		}
		r.insert(nt, row)
		r.tab.Store(nt)
	} else {
		r.insert(t, row)
	}
	r.n++
	return row
}

func (r *issuerRows) insert(t *rowTable, row *issuerRow) {
	mask := len(t.slots) - 1
	i := r.home(&row.hash, t)
	for t.slots[i].Load() != nil {
		i = (i + 1) & mask
	}
	t.slots[i].Store(row)
}
