package checkd

import (
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Connection limits. Any local user may connect (the socket is 0666), so
// one user must not be able to take the daemon from the others: each peer
// uid holds at most maxConnsPerUID connections, all users together
// maxConns. Past a limit the daemon never makes a client wait: it closes
// the connection of that uid (past the total: of the uid holding most)
// that has been idle longest, and only when none is idle does it close the
// new one. A client whose kept connection was closed reconnects; one whose
// new connection was closed checks in-process. Either way at once.
const (
	maxConns       = 1024
	maxConnsPerUID = 64
)

// unknownUID stands for a peer whose credentials could not be read; such
// peers share one allowance.
const unknownUID = ^uint32(0)

// peer is one accepted connection.
type peer struct {
	conn *net.UnixConn
	uid  uint32
	// idleSince is when the connection started waiting for a request
	// (Server.mono), 0 while one is being answered.
	idleSince atomic.Int64
	gone      bool // under peers.mu: closed by eviction or by its handler
}

// peers is the table of open connections by uid.
type peers struct {
	mu    sync.Mutex
	byUID map[uint32]map[*peer]struct{}
	n     int
	// evicted counts connections closed to make room (for tests and logs).
	evicted atomic.Int64
}

// peerUID reads the connecting process's uid (SO_PEERCRED: set by the
// kernel at connect, so it cannot be forged).
func peerUID(c *net.UnixConn) uint32 {
	rc, err := c.SyscallConn()
	if err != nil {
		return unknownUID
	}
	uid := unknownUID
	rc.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			uid = cred.Uid
		}
	})
	return uid
}

// admit adds p, closing another connection first when a limit is reached.
// It reports false (and p must be closed) when every candidate is busy.
func (ps *peers) admit(p *peer) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.byUID == nil {
		ps.byUID = map[uint32]map[*peer]struct{}{}
	}
	var victim *peer
	switch {
	case len(ps.byUID[p.uid]) >= maxConnsPerUID:
		victim = oldestIdle(ps.byUID[p.uid])
	case ps.n >= maxConns:
		var heaviest map[*peer]struct{}
		for _, m := range ps.byUID {
			if len(m) > len(heaviest) {
				heaviest = m
			}
		}
		victim = oldestIdle(heaviest)
	default:
		ps.addLocked(p)
		return true
	}
	if victim == nil {
		return false
	}
	ps.removeLocked(victim)
	victim.conn.Close() // its handler's read fails and it ends
	ps.evicted.Add(1)
	ps.addLocked(p)
	return true
}

func oldestIdle(m map[*peer]struct{}) *peer {
	var best *peer
	var bestT int64
	for p := range m {
		if t := p.idleSince.Load(); t != 0 && (best == nil || t < bestT) {
			best, bestT = p, t
		}
	}
	return best
}

func (ps *peers) addLocked(p *peer) {
	m := ps.byUID[p.uid]
	if m == nil {
		m = map[*peer]struct{}{}
		ps.byUID[p.uid] = m
	}
	m[p] = struct{}{}
	ps.n++
}

func (ps *peers) removeLocked(p *peer) {
	if p.gone {
		return
	}
	p.gone = true
	m := ps.byUID[p.uid]
	delete(m, p)
	if len(m) == 0 {
		delete(ps.byUID, p.uid)
	}
	ps.n--
}

func (ps *peers) remove(p *peer) {
	ps.mu.Lock()
	ps.removeLocked(p)
	ps.mu.Unlock()
}

// count returns the connections open in all and for uid.
func (ps *peers) count(uid uint32) (all, ofUID int) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.n, len(ps.byUID[uid])
}
