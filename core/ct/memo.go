package ct

import (
	"crypto/sha256"
	"sync"
)

// MemoSize bounds a Memo: a process meets a few leaves; a daemon serving a
// machine meets more, and re-verifying an evicted one costs ~0.3 ms.
const MemoSize = 1024

// Memo remembers verdicts by leaf (SHA-256 of the certificate and its
// issuer's key hash: the signed data depends on both) for one log list
// generation: Lookup with another generation empties it. Safe for
// concurrent use; at most MemoSize entries, the oldest replaced first.
type Memo struct {
	mu   sync.Mutex
	gen  uint64
	m    map[[32]byte]Verdict
	ring [][32]byte
	next int
}

// Key is the memo key of a leaf and its issuer.
func Key(leaf []byte, issuerSPKIHash *[32]byte) [32]byte {
	h := sha256.New()
	h.Write(leaf)
	h.Write(issuerSPKIHash[:])
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// Lookup returns the verdict stored for k under generation gen.
func (m *Memo) Lookup(gen uint64, k *[32]byte) (Verdict, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen != gen {
		m.gen, m.m, m.ring, m.next = gen, nil, nil, 0
		return Verdict{}, false
	}
	v, ok := m.m[*k]
	return v, ok
}

// Store records v for k under generation gen.
func (m *Memo) Store(gen uint64, k *[32]byte, v Verdict) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen != gen {
		m.gen, m.m, m.ring, m.next = gen, nil, nil, 0
	}
	if m.m == nil {
		m.m = make(map[[32]byte]Verdict)
	}
	if _, ok := m.m[*k]; ok {
		m.m[*k] = v
		return
	}
	if len(m.ring) < MemoSize {
		m.ring = append(m.ring, *k)
	} else {
		delete(m.m, m.ring[m.next])
		m.ring[m.next] = *k
		m.next = (m.next + 1) % MemoSize
	}
	m.m[*k] = v
}

// Len is how many verdicts are kept.
func (m *Memo) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}
