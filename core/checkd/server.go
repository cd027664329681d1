package checkd

import (
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/core/outcome"
)

const (
	// maxConfigs bounds the distinct override strings served (each is a
	// Checker with its own mappings). A system has one per adapter
	// configuration; more are refused and answered in-process.
	maxConfigs = 16
	// maxConns bounds concurrent connections (each adapter keeps one per
	// process while it is in use). Past it, accept waits and clients whose
	// connect would block check in-process instead. An idle connection
	// holds a goroutine but no buffer.
	maxConns = 1024
	// smallRequest is the buffer most requests fit (a chain's two
	// certificates); larger ones take a MaxRequest buffer.
	smallRequest = 16 << 10
	// idleTimeout closes a connection that sends nothing for this long.
	idleTimeout = 30 * time.Second
)

// served is the checker for one override string, or why there is none.
type served struct {
	c       *engine.Checker
	refused error
}

// Server answers requests. Safe for concurrent use.
type Server struct {
	configPath string
	overrides  string // the daemon's own, applied before a client's
	log        *log.Logger

	mu      sync.Mutex                         // serialises additions to configs
	configs atomic.Pointer[map[string]*served] // copy-on-write: lookups take no lock
	base    atomic.Pointer[engine.Checker]     // configs[""]
	conns   chan struct{}
	small   sync.Pool // *[]byte of smallRequest bytes
	large   sync.Pool // *[]byte of MaxRequest+1 bytes
}

// New opens the checker for configPath ("" = the default search, as
// revocheck_open does) with the daemon's overrides ("key=value;...", may
// be "") and returns a Server answering with it.
func New(configPath, overrides string, logger *log.Logger) (*Server, error) {
	if logger == nil {
		logger = log.New(os.Stderr, "revocheck daemon: ", 0)
	}
	s := &Server{configPath: configPath, overrides: overrides, log: logger, conns: make(chan struct{}, maxConns)}
	s.small.New = func() any { b := make([]byte, smallRequest); return &b }
	s.large.New = func() any { b := make([]byte, MaxRequest+1); return &b }
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

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
	m := map[string]*served{"": {c: base}}
	s.base.Store(base)
	s.configs.Store(&m)
	if old != nil {
		closeAll(*old)
	}
	return nil
}

// CacheDir is the cache the server answers from.
func (s *Server) CacheDir() string { return s.base.Load().Config.CacheDir }

// Close releases every checker.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	closeAll(*s.configs.Load())
}

func closeAll(m map[string]*served) {
	for _, v := range m {
		if v.c != nil {
			v.c.Close()
		}
	}
}

// checker returns the checker serving overrides, opening it on first use.
// Overrides that change the cache directory are refused: the daemon reads
// the cache its administrator configured, not one a client names.
func (s *Server) checker(overrides string) (*engine.Checker, error) {
	if v, ok := (*s.configs.Load())[overrides]; ok {
		return v.c, v.refused
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.configs.Load()
	if v, ok := old[overrides]; ok {
		return v.c, v.refused
	}
	if len(old) >= maxConfigs {
		return nil, fmt.Errorf("already serving %d configurations", maxConfigs)
	}
	v := &served{}
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
	if v.refused != nil {
		s.log.Printf("refusing overrides %q (clients check in-process): %v", overrides, v.refused)
	}
	m := make(map[string]*served, len(old)+1)
	for k, x := range old {
		m[k] = x
	}
	m[overrides] = v
	s.configs.Store(&m)
	return v.c, v.refused
}

// Answer decides one request. It never panics: a recovered panic is an
// internal error answered by the error policy.
func (s *Server) Answer(msg []byte) (rep Reply) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Printf("internal error (recovered): %v", p)
			rep = s.errorReply(StatusInternal)
		}
	}()
	r, err := ParseRequest(msg)
	if err != nil {
		return s.errorReply(StatusInvalid)
	}
	c, err := s.checker(r.Overrides)
	if err != nil {
		return Reply{Status: StatusRefused, Outcome: int32(outcome.Error)}
	}
	var d engine.Decision
	switch r.Kind {
	case KindDER:
		d, err = c.CheckDER(r.A, r.B)
	default:
		d, err = c.CheckIssuerSerial(r.A, r.B)
	}
	rep = Reply{Outcome: int32(d.Outcome), Allowed: d.Allowed}
	if err != nil {
		rep.Status = StatusInvalid
	}
	return rep
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

// Serve accepts connections until l is closed.
func (s *Server) Serve(l *net.UnixListener) error {
	for {
		s.conns <- struct{}{}
		conn, err := l.AcceptUnix()
		if err != nil {
			<-s.conns
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.log.Printf("accept: %v", err)
			time.Sleep(50 * time.Millisecond) // EMFILE and friends: do not spin
			continue
		}
		go s.handle(conn)
	}
}

func (s *Server) handle(conn *net.UnixConn) {
	defer func() { <-s.conns }()
	defer conn.Close()
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	var out [ReplySize]byte
	for {
		if err := conn.SetReadDeadline(time.Now().Add(idleTimeout)); err != nil {
			return
		}
		size, err := nextLen(rc)
		if err != nil || size == 0 { // idle timeout, or the client went away
			return
		}
		// A buffer only while a message is in hand: idle connections
		// cost no memory beyond their goroutine.
		pool := &s.small
		if size > smallRequest {
			pool = &s.large
		}
		bp := pool.Get().(*[]byte)
		n, _, flags, _, err := conn.ReadMsgUnix(*bp, nil)
		var rep Reply
		switch {
		case err != nil:
			pool.Put(bp)
			return
		case n > MaxRequest || flags&syscall.MSG_TRUNC != 0:
			rep = s.errorReply(StatusInvalid) // the rest of the message is discarded
		default:
			rep = s.Answer((*bp)[:n])
		}
		pool.Put(bp)
		PutReply(out[:], rep)
		if _, err := conn.Write(out[:]); err != nil {
			return
		}
	}
}

// nextLen waits (under the connection's read deadline) for the next
// message and returns its length without consuming it: MSG_PEEK|MSG_TRUNC
// reports a SOCK_SEQPACKET message's full length. 0 is end of stream.
func nextLen(rc syscall.RawConn) (int, error) {
	var n int
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		n, _, rerr = syscall.Recvfrom(int(fd), nil, syscall.MSG_PEEK|syscall.MSG_TRUNC|syscall.MSG_DONTWAIT)
		return rerr != syscall.EAGAIN
	})
	if err != nil {
		return 0, err
	}
	return n, rerr
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
		syscall.CloseOnExec(3)
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
