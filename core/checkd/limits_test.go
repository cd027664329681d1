package checkd

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/integration/harness"
)

// TestOverrideSlots: one uid sending junk override strings holds at most
// maxConfigsPerUID checkers; refused strings take no slot; another uid's
// new configuration is always served; a checker closed to make room
// finishes the check it is answering.
func TestOverrideSlots(t *testing.T) {
	env := harness.New(t)
	var logs bytes.Buffer
	s, _ := daemon(t, env, &logs)
	const attacker, user = 65534, 1000
	site := env.Sites["revoked"]
	held, err := s.checker(attacker, "max-age=1h") // in use across its eviction
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if v, err := s.checker(attacker, fmt.Sprintf("max-age=%dh", i+2)); err == nil {
			v.release()
		} else {
			t.Fatalf("valid override refused: %v", err)
		}
		if _, err := s.checker(attacker, fmt.Sprintf("junk-%d=1", i)); err == nil {
			t.Fatal("junk key served")
		}
	}
	owned, accepted, refused := 0, 0, 0
	for k, v := range *s.configs.Load() {
		switch {
		case v.refused != nil:
			refused++
		case k != "":
			accepted++
			if v.owner == attacker {
				owned++
			}
		}
	}
	if owned != maxConfigsPerUID || refused > maxRefused {
		t.Errorf("attacker owns %d checkers (want %d), %d refusals remembered", owned, maxConfigsPerUID, refused)
	}
	// The checker evicted while in use still answers, and is closed when
	// released.
	if d, err := held.c.CheckDER(site.Leaf, site.Issuer); err != nil || d.Outcome != outcome.Revoked {
		t.Errorf("evicted checker in use: %v %v", d, err)
	}
	held.release()
	if held.refs.Load() != -1 {
		t.Errorf("evicted checker not closed after its last check: refs %d", held.refs.Load())
	}
	// Others fill the table; each new one is served.
	for u := uint32(0); u < 20; u++ {
		v, err := s.checker(user+u, fmt.Sprintf("policy.not-covered=deny;max-age=%dd", u+1))
		if err != nil {
			t.Fatalf("uid %d: new override refused: %v", user+u, err)
		}
		v.release()
	}
	n := 0
	for k, v := range *s.configs.Load() {
		if k != "" && v.c != nil {
			n++
		}
	}
	if n >= maxConfigs {
		t.Errorf("%d checkers open besides the daemon's own, want < %d", n, maxConfigs)
	}
	// The attacker was evicted first (it owned most).
	for _, v := range *s.configs.Load() {
		if v.c != nil && v.owner == attacker {
			t.Errorf("attacker still holds a slot after 20 other users asked")
			break
		}
	}
	// Refusal lines are rate-limited.
	if n := strings.Count(logs.String(), "refusing overrides"); n > refusalLogs {
		t.Errorf("%d refusal lines logged, want at most %d", n, refusalLogs)
	}
}

// socketPair returns a connected pair of SOCK_SEQPACKET UnixConns.
func socketPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var cs [2]*net.UnixConn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "pair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = c.(*net.UnixConn)
		t.Cleanup(func() { cs[i].Close() })
	}
	return cs[0], cs[1]
}

// TestPeerLimits: past maxConns in all, a new connection closes the
// longest idle one of the uid holding most; past maxConnsPerUID, of its
// own uid; when every candidate is busy, the new one is refused.
func TestPeerLimits(t *testing.T) {
	var ps peers
	var clock int64
	add := func(uid uint32, idle bool) (*peer, *net.UnixConn, bool) {
		srv, cli := socketPair(t)
		p := &peer{conn: srv, uid: uid}
		if idle {
			clock++
			p.idleSince.Store(clock)
		}
		return p, cli, ps.admit(p)
	}
	// uid 7 takes its allowance; the 65th closes its own oldest idle one.
	var first *net.UnixConn
	for i := 0; i < maxConnsPerUID; i++ {
		_, cli, ok := add(7, true)
		if !ok {
			t.Fatalf("connection %d refused", i)
		}
		if i == 0 {
			first = cli
		}
	}
	if _, _, ok := add(7, true); !ok {
		t.Fatal("65th connection of uid 7 refused though its others are idle")
	}
	if all, mine := ps.count(7); all != maxConnsPerUID || mine != maxConnsPerUID {
		t.Errorf("after eviction: %d open, %d of uid 7", all, mine)
	}
	first.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := first.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("the oldest idle connection of uid 7 was not closed: %d %v", n, err)
	}
	// Other uids fill the total; one more closes one of uid 7's (it holds
	// as many as anyone), not one of the newcomer's.
	for u := uint32(100); ps.n < maxConns; u++ {
		for i := 0; i < maxConnsPerUID/2 && ps.n < maxConns; i++ {
			if _, _, ok := add(u, true); !ok {
				t.Fatal("refused below the limits")
			}
		}
	}
	if _, _, ok := add(5000, true); !ok {
		t.Fatal("a new uid refused at the total limit")
	}
	if all, of7 := ps.count(7); all != maxConns || of7 != maxConnsPerUID-1 {
		t.Errorf("at the total limit: %d open (want %d), uid 7 holds %d (want %d)", all, maxConns, of7, maxConnsPerUID-1)
	}
	// Every connection busy: the new one is refused, nothing is closed.
	ps.mu.Lock()
	for _, m := range ps.byUID {
		for p := range m {
			p.idleSince.Store(0)
		}
	}
	ps.mu.Unlock()
	if _, _, ok := add(6000, true); ok {
		t.Error("admitted though every connection is busy")
	}
	if all, _ := ps.count(0); all != maxConns {
		t.Errorf("%d open, want %d", all, maxConns)
	}
}

// TestOverrideSlotsConcurrent: checks keep answering right while other
// goroutines' new override strings evict and close checkers (run with
// -race).
func TestOverrideSlotsConcurrent(t *testing.T) {
	env := harness.New(t)
	s, _ := daemon(t, env, &bytes.Buffer{})
	site := env.Sites["revoked"]
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func(g int) {
			for i := 0; i < 300; i++ {
				v, err := s.checker(uint32(g%3), fmt.Sprintf("max-age=%dh", (g*7+i)%40+1))
				if err != nil {
					done <- err
					return
				}
				d, err := v.c.CheckDER(site.Leaf, site.Issuer)
				v.release()
				if err != nil || d.Outcome != outcome.Revoked {
					done <- fmt.Errorf("goroutine %d check %d: %v %v", g, i, d, err)
					return
				}
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	open := 0
	for _, v := range *s.configs.Load() {
		if v.c != nil {
			open++
			if v.refs.Load() != 0 {
				t.Errorf("a checker in the table still holds %d references", v.refs.Load())
			}
		}
	}
	if open > maxConfigs {
		t.Errorf("%d checkers open, want at most %d", open, maxConfigs)
	}
}
