package checkd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall" // RawConn and the *Stat_t of os.FileInfo.Sys: types of the standard library, not calls
	"time"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/core/outcome"
)

const (
	// maxConfigs bounds the checkers open at once, one per distinct
	// override string (the daemon's own "" included). A system has one per
	// adapter configuration. Each uid may own (have first asked for) at
	// most maxConfigsPerUID; past either bound the least recently used
	// entry of the uid owning most is closed, so a new configuration always
	// gets one and no user can hold them all. Strings the daemon refuses
	// are remembered apart (at most maxRefused) and take no slot.
	maxConfigs       = 16
	maxConfigsPerUID = 4
	maxRefused       = 64
	// refusalLogs bounds the "refusing overrides" lines per minute: any
	// user can send junk.
	refusalLogs = 10
	// idleTimeout closes a connection that sends nothing (or does not
	// read its reply) for this long. The deadline is pushed forward at
	// most once per rearmAfter, so the bound is idleTimeout-rearmAfter to
	// idleTimeout: a request then sets no timer.
	idleTimeout = 30 * time.Second
	rearmAfter  = time.Second
)

// served is the checker for one override string, or why there is none.
type served struct {
	c       *engine.Checker
	refused error
	owner   uint32       // the uid that first asked for it
	lastUse atomic.Int64 // Server.mono of the last request
	// refs counts checks in flight; -1 once closed. A checker dropped
	// from the table is closed when its last check ends.
	refs    atomic.Int32
	retired atomic.Bool
}

// acquire takes a reference; false when the checker is already closed.
func (v *served) acquire() bool {
	for {
		r := v.refs.Load()
		if r < 0 {
			return false
		}
		if v.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

func (v *served) release() {
	if v.refs.Add(-1) == 0 && v.retired.Load() {
		v.closeIfIdle()
	}
}

// retire closes the checker now or when its last check ends. The entry
// must already be out of the table, so no new reference can be taken.
func (v *served) retire() {
	v.retired.Store(true)
	v.closeIfIdle()
}

func (v *served) closeIfIdle() {
	if v.c != nil && v.refs.CompareAndSwap(0, -1) {
		v.c.Close()
	}
}

// Procs is how many CPUs the daemon should run Go code on, of the n the
// runtime would use: half, at least one. Its clients run on the same
// machine and spend about as much CPU per check as the daemon (send,
// receive, their wake-ups), so the daemon cannot use more than its half;
// measured on the 2-core VM (docs/BENCHMARKS.md), one P instead of two cut
// the daemon's CPU per check by 1-26 % (median 16 %) under 64 concurrent
// clients (no idle P for a spinning thread to steal from).
// `revocheck daemon` applies it unless $GOMAXPROCS is set.
func Procs(n int) int { return max(1, n/2) }

// Server answers requests. Safe for concurrent use.
type Server struct {
	configPath string
	overrides  string // the daemon's own, applied before a client's
	log        *log.Logger
	epoch      time.Time // mono's zero

	mu      sync.Mutex                         // serialises changes to configs
	configs atomic.Pointer[map[string]*served] // copy-on-write: lookups take no lock
	base    atomic.Pointer[engine.Checker]     // configs[""]
	peers   peers
	bufs    sync.Pool // *[]byte of MaxRequest+1 bytes, taken only while a message is in hand

	closed    bool  // under mu: Close was called
	logWindow int64 // under mu: mono minute of the refusal lines counted
	logCount  int   // under mu: refusal lines in that minute
}

// New opens the checker for configPath ("" = the default search, as
// revocheck_open does) with the daemon's overrides ("key=value;...", may
// be "") and returns a Server answering with it.
func New(configPath, overrides string, logger *log.Logger) (*Server, error) {
	if logger == nil {
		logger = log.New(os.Stderr, "revocheck daemon: ", 0)
	}
	s := &Server{configPath: configPath, overrides: overrides, log: logger, epoch: time.Now()}
	s.bufs.New = func() any { b := make([]byte, MaxRequest+1); return &b }
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// mono is a monotonic clock in ns since the server started, never 0.
func (s *Server) mono() int64 { return int64(time.Since(s.epoch)) + 1 }

// Reload re-reads the configuration: every checker is replaced. Checks
// already running finish on the checker they started with.
func (s *Server) Reload() error {
	base, err := engine.Open(s.configPath, s.overrides)
	if err != nil {
		return err
	}
	for _, p := range base.Config.Problems { // served anyway (engine.Open)
		s.log.Printf("configuration problem: %s (that setting keeps its default)", p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.configs.Load()
	m := map[string]*served{"": {c: base, owner: unknownUID}}
	s.base.Store(base)
	s.configs.Store(&m)
	if old != nil {
		retireAll(*old)
	}
	return nil
}

// CacheDir is the cache the server answers from.
func (s *Server) CacheDir() string { return s.base.Load().Config.CacheDir }

// Close releases every checker (each after its checks in flight); later
// requests are refused.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	retireAll(*s.configs.Load())
}

func retireAll(m map[string]*served) {
	for _, v := range m {
		v.retire()
	}
}

// checker returns the entry serving overrides for a client of uid, with a
// reference the caller releases, opening it on first use. Overrides that
// change the cache directory are refused: the daemon reads the cache its
// administrator configured, not one a client names.
func (s *Server) checker(uid uint32, overrides string) (*served, error) {
	if v, ok := (*s.configs.Load())[overrides]; ok {
		if v.refused != nil {
			return nil, v.refused
		}
		if v.acquire() {
			v.lastUse.Store(s.mono())
			return v, nil
		}
		// Closed under us (evicted, reloaded): the table has moved on.
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("daemon closed")
	}
	old := *s.configs.Load()
	if v, ok := old[overrides]; ok {
		if v.refused != nil {
			return nil, v.refused
		}
		if v.acquire() { // entries in the table are never closed
			v.lastUse.Store(s.mono())
			return v, nil
		}
	}
	v := &served{owner: uid}
	c, err := engine.Open(s.configPath, joinOverrides(s.overrides, overrides))
	switch {
	case err != nil:
		v.refused = err
	case c.Config.CacheDir != s.CacheDir():
		c.Close()
		v.refused = fmt.Errorf("overrides name cache %s; this daemon serves %s", c.Config.CacheDir, s.CacheDir())
	case len(c.Config.Problems) > len(s.base.Load().Config.Problems):
		// The client's own open reports its configuration problems.
		c.Close()
		v.refused = fmt.Errorf("overrides: %v", c.Config.Problems[len(s.base.Load().Config.Problems)])
	default:
		v.c = c
	}
	m := make(map[string]*served, len(old)+1)
	for k, x := range old {
		m[k] = x
	}
	var victim *served
	if v.refused != nil {
		s.logRefusal(overrides, v.refused)
		if n := countRefused(m); n >= maxRefused {
			for k, x := range m { // forget any one: it is only a cache of refusals
				if x.refused != nil {
					delete(m, k)
					break
				}
			}
		}
	} else if k := evictionVictim(m, uid); k != "" {
		victim = m[k]
		delete(m, k)
	}
	v.lastUse.Store(s.mono())
	m[overrides] = v
	if v.c != nil {
		v.refs.Store(1) // the caller's
	}
	s.configs.Store(&m)
	if victim != nil {
		victim.retire()
	}
	if v.refused != nil {
		return nil, v.refused
	}
	return v, nil
}

func countRefused(m map[string]*served) int {
	n := 0
	for _, x := range m {
		if x.refused != nil {
			n++
		}
	}
	return n
}

// evictionVictim names the entry to close before uid adds one, or "": the
// least recently used of uid's own when it owns maxConfigsPerUID, else
// when the table is full the least recently used among those of the
// uid(s) owning most. The daemon's own configuration ("") is never closed.
func evictionVictim(m map[string]*served, uid uint32) string {
	owned := map[uint32]int{}
	n := 0
	for k, x := range m {
		if k != "" && x.c != nil {
			owned[x.owner]++
			n++
		}
	}
	var from func(owner uint32) bool
	switch {
	case owned[uid] >= maxConfigsPerUID:
		from = func(o uint32) bool { return o == uid }
	case n+1 >= maxConfigs: // +1: the daemon's own
		most := 0
		for _, c := range owned {
			most = max(most, c)
		}
		from = func(o uint32) bool { return owned[o] == most }
	default:
		return ""
	}
	victim := ""
	var t int64
	for k, x := range m {
		if k == "" || x.c == nil || !from(x.owner) {
			continue
		}
		if lu := x.lastUse.Load(); victim == "" || lu < t {
			victim, t = k, lu
		}
	}
	return victim
}

// logRefusal logs a refused override string, at most refusalLogs lines a
// minute (any local user can send junk). Called under s.mu.
func (s *Server) logRefusal(overrides string, err error) {
	minute := s.mono() / int64(time.Minute)
	if minute != s.logWindow {
		if s.logCount > refusalLogs {
			s.log.Printf("%d more override strings refused in the last minute (not logged)", s.logCount-refusalLogs)
		}
		s.logWindow, s.logCount = minute, 0
	}
	s.logCount++
	if s.logCount <= refusalLogs {
		s.log.Printf("refusing overrides %q (clients check in-process): %v", overrides, err)
	}
}

// Answer decides one request from a client whose uid is not known.
func (s *Server) Answer(msg []byte) Reply { return s.answer(unknownUID, msg, nil) }

// clientMemo remembers, per connection, the last request's overrides and
// context and what they resolved to: an adapter sends the same ones in
// every request, so the next decodes no context and allocates nothing.
type clientMemo struct {
	ov, ctx []byte
	valid   bool
	res     string // clientOverrides' result
	err     error  // or its error
}

// resolve is clientOverrides(r) for a request whose raw overrides and
// context are ov and ctx, remembered in m (nil: not remembered).
func (m *clientMemo) resolve(r *Request, ov, ctx []byte) (string, error) {
	if m != nil && m.valid && bytes.Equal(m.ov, ov) && bytes.Equal(m.ctx, ctx) {
		return m.res, m.err
	}
	r.Overrides, r.Context = string(ov), string(ctx)
	res, err := clientOverrides(*r)
	if m != nil {
		*m = clientMemo{ov: append(m.ov[:0], ov...), ctx: append(m.ctx[:0], ctx...), valid: true, res: res, err: err}
	}
	return res, err
}

// answer decides one request. It never panics: a recovered panic is an
// internal error answered by the error policy.
func (s *Server) answer(uid uint32, msg []byte, memo *clientMemo) (rep Reply) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Printf("internal error (recovered): %v", p)
			rep = s.errorReply(StatusInternal)
		}
	}()
	kind, rawOv, a, b, rawCtx, err := splitRequest(msg)
	if err != nil {
		return s.errorReply(StatusInvalid)
	}
	r := Request{Kind: kind, A: a, B: b}
	ov, err := memo.resolve(&r, rawOv, rawCtx)
	if err != nil {
		// Not a refusal worth a log line: a client with its own
		// configuration is normal, and checks in-process.
		return Reply{Status: StatusRefused, Outcome: int32(outcome.Error)}
	}
	v, err := s.checker(uid, ov)
	if err != nil {
		return Reply{Status: StatusRefused, Outcome: int32(outcome.Error)}
	}
	defer v.release()
	var d engine.Decision
	switch r.Kind {
	case KindState:
		err := v.c.DataErr()
		text, ready := v.c.Config.State(err)
		return Reply{Allowed: ready, Text: text}
	case KindIssuers:
		return issuersReply(v.c, r.A)
	case KindDER:
		d, err = v.c.CheckDER(r.A, r.B)
	default:
		d, err = v.c.CheckIssuerSerial(r.A, r.B)
	}
	rep = Reply{Outcome: int32(d.Outcome), Allowed: d.Allowed}
	if err != nil {
		rep.Status = StatusInvalid
	}
	return rep
}

// clientOverrides is what the client's configuration adds to the system
// one: its overrides, after a cache directory from its environment (as
// revocheck_open applies them). A client configured from any other file
// is not served.
func clientOverrides(r Request) (string, error) {
	c, err := r.Client()
	if err != nil {
		return "", err
	}
	dir, err := config.SystemOnly(c.Explicit, c.Getenv, c.UserFile)
	if err != nil || dir == "" {
		return r.Overrides, err
	}
	return joinOverrides("cache-dir="+dir, r.Overrides), nil
}

func joinOverrides(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + ";" + b
}

func (s *Server) errorReply(status int32) Reply {
	d := s.base.Load().Decide(outcome.Error)
	return Reply{Status: status, Outcome: int32(d.Outcome), Allowed: d.Allowed}
}

// Serve accepts connections until l is closed. It never waits for a
// connection slot: see admit.
func (s *Server) Serve(l *net.UnixListener) error {
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.log.Printf("accept: %v", err)
			time.Sleep(50 * time.Millisecond) // EMFILE and friends: do not spin
			continue
		}
		p := &peer{conn: conn, uid: peerUID(conn)}
		p.idleSince.Store(s.mono())
		if !s.peers.admit(p) {
			conn.Close() // every connection of this uid is busy: the client checks in-process
			continue
		}
		go s.handle(p)
	}
}

func (s *Server) handle(p *peer) {
	conn := p.conn
	defer s.peers.remove(p)
	defer conn.Close()
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	out := make([]byte, 0, ReplySize+MaxStateText)
	var memo clientMemo
	var armed int64 // s.mono() when the deadlines were last pushed forward
	for {
		now := s.mono()
		p.idleSince.Store(now)
		// One deadline for both directions: no request within it (idle,
		// evicted by Close, client gone), or a client that sends and
		// never reads its reply (a blocked write would keep the
		// connection "busy", never evicted), ends the connection.
		if now-armed > int64(rearmAfter) {
			if err := conn.SetDeadline(time.Now().Add(idleTimeout)); err != nil {
				return
			}
			armed = now
		}
		bp, n, err := s.next(rc)
		if err != nil || n == 0 { // deadline, evicted, or the client went away
			return
		}
		p.idleSince.Store(0) // busy: not evicted while answering
		var rep Reply
		if n > MaxRequest { // SOCK_SEQPACKET discarded the rest of the message
			rep = s.errorReply(StatusInvalid)
		} else {
			rep = s.answer(p.uid, (*bp)[:n], &memo)
		}
		s.bufs.Put(bp)
		out = AppendReply(out[:0], rep)
		if _, err := conn.Write(out); err != nil {
			return
		}
		if cap(out) > ReplySize+MaxStateText {
			out = nil // an issuers reply (up to 64 KiB): not kept by an idle connection
		}
	}
}

// next reads the next message (waiting for it under the connection's
// deadline) into a pooled buffer of MaxRequest+1 bytes, so a longer
// message shows as n > MaxRequest. One read(2) per message: the buffer is
// taken only once a message is there, so idle connections hold none.
// n == 0 is end of stream.
func (s *Server) next(rc syscall.RawConn) (bp *[]byte, n int, err error) {
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		b := s.bufs.Get().(*[]byte)
		for {
			n, rerr = unix.Read(int(fd), *b)
			if rerr != unix.EINTR {
				break
			}
		}
		if rerr == unix.EAGAIN {
			s.bufs.Put(b)
			return false // wait for the next message
		}
		bp = b
		return true
	})
	if err == nil {
		err = rerr
	}
	if err != nil && bp != nil {
		s.bufs.Put(bp)
		bp = nil
	}
	return bp, n, err
}

// Listen returns the socket systemd passed (socket activation: LISTEN_PID
// and LISTEN_FDS=1), or listens at path. A leftover socket file nobody
// listens on is replaced; a live one is an error (another daemon runs).
// created reports whether the caller made the socket file (and should
// remove it when done; the listener does).
func Listen(path string) (l *net.UnixListener, created bool, err error) {
	if pid, _ := strconv.Atoi(os.Getenv("LISTEN_PID")); pid == os.Getpid() && os.Getenv("LISTEN_FDS") == "1" {
		os.Unsetenv("LISTEN_PID")
		os.Unsetenv("LISTEN_FDS")
		os.Unsetenv("LISTEN_FDNAMES")
		unix.CloseOnExec(3)
		fl, err := net.FileListener(os.NewFile(3, "systemd socket"))
		if err != nil {
			return nil, false, fmt.Errorf("daemon: socket from systemd: %w", err)
		}
		ul, ok := fl.(*net.UnixListener)
		if !ok || ul.Addr().Network() != "unixpacket" {
			fl.Close()
			return nil, false, errors.New("daemon: systemd passed a socket that is not AF_UNIX SOCK_SEQPACKET (ListenSequentialPacket=)")
		}
		return ul, false, nil
	}
	if err := socketDir(filepath.Dir(path)); err != nil {
		return nil, false, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, false, fmt.Errorf("daemon: %s exists and is not a socket", path)
		}
		if c, err := net.Dial("unixpacket", path); err == nil {
			c.Close()
			return nil, false, fmt.Errorf("daemon: another daemon is listening on %s", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, false, fmt.Errorf("daemon: remove stale socket: %w", err)
		}
	}
	l, err = net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, false, fmt.Errorf("daemon: %w", err)
	}
	// Every local user may ask: revocation data is public. Who may answer
	// is guarded by the directory (see TrustedDir).
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return nil, false, fmt.Errorf("daemon: %w", err)
	}
	return l, true, nil
}

// socketDir creates the socket's directory (and missing parents) as the
// adapters trust it: mode 0755, owned by the daemon's user (root when run
// by hand as root; systemd's DirectoryMode= does the same for the unit).
// When it cannot, the error names the command that prepares it.
func socketDir(dir string) error {
	if _, err := os.Stat(dir); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil // exists (TrustedDir judges it), or a stat error bind will report
	}
	var made []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		made = append(made, d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("daemon: cannot create the socket directory: %w; create it as root with\n"+
			"    install -d -m 0755 -o root -g root %s\nor let systemd do it: systemctl enable --now revocheck-checkd.socket", err, dir)
	}
	for _, d := range made {
		// The umask may have taken bits away; group/world write must not be there.
		if err := os.Chmod(d, 0o755); err != nil {
			return fmt.Errorf("daemon: %w", err)
		}
	}
	return nil
}

// TrustedDir reports why other users' clients would refuse a socket in
// dir, or nil. The C client trusts answers only from a socket whose
// directory is owned by root (or by the client's own user) and writable by
// no one else: then no other user can have put a listener there.
func TrustedDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
		return fmt.Errorf("%s is owned by uid %d, not root: only that user's processes will ask", dir, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %o): no client will ask", dir, fi.Mode().Perm())
	}
	return nil
}
