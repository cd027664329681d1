package checkd

import (
	"bytes"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/integration/harness"
)

// daemon starts a Server on a socket in a fresh directory, answering from
// env's cache, and returns the socket path.
func daemon(t *testing.T, env *harness.Env, logs *bytes.Buffer) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	// The cache is named as `revocheck daemon --cache-dir` names it (a
	// file's cache-dir is upki's parent of revocation/).
	if err := os.WriteFile(cfg, []byte("max-age = \"240h\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var lw = log.New(os.Stderr, "daemon: ", 0)
	if logs != nil {
		lw = log.New(logs, "", 0)
	}
	s, err := New(cfg, "cache-dir="+env.CacheDir, lw)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "check.sock")
	ln, created, err := Listen(sock)
	if err != nil || !created {
		t.Fatalf("listen: %v (created %v)", err, created)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		s.Close()
	})
	return s, sock
}

func ask(t *testing.T, c net.Conn, r Request) Reply {
	t.Helper()
	if _, err := c.Write(AppendRequest(nil, r)); err != nil {
		t.Fatal(err)
	}
	var b [64]byte
	n, err := c.Read(b[:])
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ParseReply(b[:n])
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func dial(t *testing.T, sock string) net.Conn {
	t.Helper()
	c, err := net.Dial("unixpacket", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDaemonAnswers(t *testing.T) {
	env := harness.New(t)
	_, sock := daemon(t, env, nil)
	c := dial(t, sock)
	// Many requests on one connection, as the engine answers them in-process.
	for site, want := range map[string]outcome.Outcome{
		"good": outcome.NotRevoked, "revoked": outcome.Revoked, "uncovered": outcome.NotCovered,
		"unenrolled": outcome.NotEnrolled, "crl-revoked": outcome.Revoked,
	} {
		s := env.Sites[site]
		rep := ask(t, c, Request{Kind: KindDER, A: s.Leaf, B: s.Issuer})
		if rep.Status != StatusOK || outcome.Outcome(rep.Outcome) != want || rep.Allowed != (want != outcome.Revoked) {
			t.Errorf("%s: %+v, want %v", site, rep, want)
		}
	}
	// The client's policy overrides are applied.
	s := env.Sites["uncovered"]
	if rep := ask(t, c, Request{Kind: KindDER, Overrides: "policy.not-covered=deny", A: s.Leaf, B: s.Issuer}); rep.Allowed || rep.Status != StatusOK {
		t.Errorf("not-covered=deny: %+v", rep)
	}
	// Issuer Name + serial, as NSS asks.
	// (The test PKI's serials have the top bit set: DER content is 0x00 + bytes.)
	crlLeaf := env.PKI.Sites["crl-revoked"].Leaf.Cert
	serial := append([]byte{0}, crlLeaf.SerialNumber.Bytes()...)
	if rep := ask(t, c, Request{Kind: KindIssuerSerial, A: crlLeaf.RawIssuer, B: serial}); outcome.Outcome(rep.Outcome) != outcome.Revoked {
		t.Errorf("issuer+serial of crl-revoked: %+v", rep)
	}
	// Bad DER: the error policy answers, with the C ABI's status.
	if rep := ask(t, c, Request{Kind: KindDER, A: []byte{0x30, 1, 2}, B: s.Issuer}); rep.Status != StatusInvalid || outcome.Outcome(rep.Outcome) != outcome.Error || !rep.Allowed {
		t.Errorf("bad DER: %+v", rep)
	}
}

func TestDaemonRefusesOtherCache(t *testing.T) {
	env := harness.New(t)
	var logs bytes.Buffer
	_, sock := daemon(t, env, &logs)
	c := dial(t, sock)
	s := env.Sites["revoked"]
	for i := 0; i < 2; i++ { // the refusal is remembered, and logged once
		rep := ask(t, c, Request{Kind: KindDER, Overrides: "cache-dir=/elsewhere", A: s.Leaf, B: s.Issuer})
		if rep.Status != StatusRefused {
			t.Fatalf("other cache-dir: %+v, want refused", rep)
		}
	}
	if n := strings.Count(logs.String(), "refusing overrides"); n != 1 {
		t.Errorf("want one refusal logged, got %d: %s", n, logs.String())
	}
	// The same cache spelled as an override is served.
	if rep := ask(t, c, Request{Kind: KindDER, Overrides: "cache-dir=" + env.CacheDir, A: s.Leaf, B: s.Issuer}); rep.Status != StatusOK || outcome.Outcome(rep.Outcome) != outcome.Revoked {
		t.Errorf("same cache-dir: %+v", rep)
	}
	// A bad key is refused too: the client's own open reports it.
	if rep := ask(t, c, Request{Kind: KindDER, Overrides: "no-such-key=1", A: s.Leaf, B: s.Issuer}); rep.Status != StatusRefused {
		t.Errorf("bad override: %+v", rep)
	}
}

// The daemon decides from the client's context whether it serves it: a
// client configured from a file of its own, or whose context names
// something unknown, checks in-process; its environment's cache directory
// is served when it is the daemon's.
func TestDaemonDecidesFromContext(t *testing.T) {
	env := harness.New(t)
	_, sock := daemon(t, env, nil)
	c := dial(t, sock)
	s := env.Sites["revoked"]
	home := t.TempDir()
	for _, tc := range []struct {
		name, context string
		served        bool
	}{
		{"none", "", true},
		{"home without a file", "HOME=" + home + "\x00", true},
		{"same cache from the environment", "REVOCHECK_CACHE_DIR=" + env.CacheDir + "\x00", true},
		{"other cache from the environment", "REVOCHECK_CACHE_DIR=/elsewhere\x00", false},
		{"adapter config file", "config=/etc/revocheck/other.toml\x00", false},
		{"$REVOCHECK_CONFIG", "REVOCHECK_CONFIG=/tmp/x.toml\x00", false},
		{"user file", "HOME=" + home + "\x00user-file=1\x00", false},
		{"unknown name", "LD_PRELOAD=/x.so\x00", false},
		{"incomplete", "incomplete=1\x00", false},
	} {
		rep := ask(t, c, Request{Kind: KindDER, A: s.Leaf, B: s.Issuer, Context: tc.context})
		served := rep.Status == StatusOK && outcome.Outcome(rep.Outcome) == outcome.Revoked
		if served != tc.served || (!served && rep.Status != StatusRefused) {
			t.Errorf("%s: %+v, want served %v", tc.name, rep, tc.served)
		}
	}
}

// A state request is answered with the daemon's own judgement of the
// client's configuration: ready with its cache, or why there is no data.
func TestDaemonState(t *testing.T) {
	env := harness.New(t)
	_, sock := daemon(t, env, nil)
	c := dial(t, sock)
	state := func(r Request) (Reply, string) {
		t.Helper()
		if _, err := c.Write(AppendRequest(nil, r)); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, ReplySize+MaxStateText+1)
		n, err := c.Read(b)
		if err != nil || n < ReplySize {
			t.Fatalf("read %d: %v", n, err)
		}
		rep, err := ParseReply(b[:ReplySize])
		if err != nil {
			t.Fatal(err)
		}
		return rep, string(b[ReplySize:n])
	}
	if rep, text := state(Request{Kind: KindState}); rep.Status != StatusOK || !rep.Allowed || text != "ready (cache "+env.CacheDir+")" {
		t.Errorf("state: %+v %q", rep, text)
	}
	if rep, _ := state(Request{Kind: KindState, Context: "config=/x.toml\x00"}); rep.Status != StatusRefused {
		t.Errorf("state for a client with its own config file: %+v, want refused", rep)
	}
}

func TestDaemonBadMessages(t *testing.T) {
	env := harness.New(t)
	_, sock := daemon(t, env, nil)
	c := dial(t, sock)
	for name, msg := range map[string][]byte{
		"short":     []byte("RCQ2"),
		"magic":     bytes.Repeat([]byte{0}, headerSize),
		"lengths":   append(AppendRequest(nil, Request{Kind: KindDER, A: []byte{1}}), 9),
		"oversized": make([]byte, MaxRequest+100),
	} {
		if _, err := c.Write(msg); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var b [64]byte
		n, err := c.Read(b[:])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rep, err := ParseReply(b[:n])
		if err != nil || rep.Status != StatusInvalid || outcome.Outcome(rep.Outcome) != outcome.Error {
			t.Errorf("%s: %+v, %v", name, rep, err)
		}
	}
}

func TestDaemonConcurrent(t *testing.T) {
	env := harness.New(t)
	_, sock := daemon(t, env, nil)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			site := []string{"good", "revoked"}[g%2]
			s := env.Sites[site]
			for i := 0; i < 50; i++ {
				c, err := net.Dial("unixpacket", sock) // a connection per check, as the C client does
				if err != nil {
					t.Error(err)
					return
				}
				c.Write(AppendRequest(nil, Request{Kind: KindDER, A: s.Leaf, B: s.Issuer}))
				var b [ReplySize]byte
				n, err := c.Read(b[:])
				c.Close()
				rep, perr := ParseReply(b[:n])
				if err != nil || perr != nil || rep.Allowed != (site == "good") {
					t.Errorf("%s: %+v %v %v", site, rep, err, perr)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestListenStaleAndLive(t *testing.T) {
	env := harness.New(t)
	_, sock := daemon(t, env, nil)
	if _, _, err := Listen(sock); err == nil || !strings.Contains(err.Error(), "another daemon") {
		t.Errorf("second daemon on a live socket: %v", err)
	}
	// A socket file nobody listens on is replaced.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: stale, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	l2, created, err := Listen(stale)
	if err != nil || !created {
		t.Fatalf("stale socket: %v", err)
	}
	l2.Close()
	if err := os.WriteFile(stale, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Listen(stale); err == nil {
		t.Errorf("a regular file at the socket path must not be removed")
	}
}

func TestTrustedDir(t *testing.T) {
	d := t.TempDir()
	if os.Geteuid() == 0 {
		if err := TrustedDir(d); err != nil {
			t.Errorf("root-owned 0700 dir: %v", err)
		}
	}
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := TrustedDir(d); err == nil {
		t.Errorf("world-writable dir accepted")
	}
}

func TestRequestRoundTrip(t *testing.T) {
	r := Request{Kind: KindIssuerSerial, Overrides: "policy.error=deny", A: []byte("name"), B: []byte{0, 1}}
	got, err := ParseRequest(AppendRequest(nil, r))
	if err != nil || got.Kind != r.Kind || got.Overrides != r.Overrides || !bytes.Equal(got.A, r.A) || !bytes.Equal(got.B, r.B) {
		t.Fatalf("%+v, %v", got, err)
	}
	var b [ReplySize]byte
	PutReply(b[:], Reply{Status: StatusRefused, Outcome: 7, Allowed: true})
	if rep, err := ParseReply(b[:]); err != nil || rep != (Reply{Status: StatusRefused, Outcome: 7, Allowed: true}) {
		t.Fatalf("%+v, %v", rep, err)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add(AppendRequest(nil, Request{Kind: KindDER, Overrides: "a=b", A: []byte{0x30, 0}, B: []byte{0x30, 0}}))
	f.Add(AppendRequest(nil, Request{Kind: KindIssuerSerial, A: []byte{1}, B: nil}))
	f.Add(AppendRequest(nil, Request{Kind: KindIssuers, A: []byte{0x30, 0}}))
	f.Add([]byte("RCQ2\x01\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add(AppendRequest(nil, Request{Kind: KindDER, A: []byte{1}, Context: "HOME=/h\x00"}))
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := ParseRequest(msg)
		if err != nil {
			return
		}
		// What parses re-encodes to the same bytes: nothing is skipped.
		if !bytes.Equal(AppendRequest(nil, r), msg) {
			t.Fatalf("re-encoding differs")
		}
	})
}

// BenchmarkRoundTrip is one check through the daemon: a connection per
// check (what the C client does) and a kept connection, against the same
// check in-process.
func BenchmarkRoundTrip(b *testing.B) {
	env := harness.New(b)
	dir := b.TempDir()
	s, err := New("", "cache-dir="+env.CacheDir, log.New(os.Stderr, "", 0))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ln, _, err := Listen(filepath.Join(dir, "check.sock"))
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go s.Serve(ln)
	site := env.Sites["good"]
	msg := AppendRequest(nil, Request{Kind: KindDER, A: site.Leaf, B: site.Issuer})
	var rep [ReplySize]byte
	b.Run("connect-per-check", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			c, err := net.Dial("unixpacket", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			c.Write(msg)
			if _, err := c.Read(rep[:]); err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	b.Run("kept-connection", func(b *testing.B) {
		c, err := net.Dial("unixpacket", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		for i := 0; i < b.N; i++ {
			c.Write(msg)
			if _, err := c.Read(rep[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("in-process", func(b *testing.B) {
		v, _ := s.checker(unknownUID, "")
		defer v.release()
		for i := 0; i < b.N; i++ {
			v.c.CheckDER(site.Leaf, site.Issuer)
		}
	})
}

func TestDaemonManyIdleConnections(t *testing.T) {
	// Long-lived clients keep a connection each; 1100 idle ones of one uid
	// (more than the daemon holds in all) must not keep a new client from
	// being answered at once: the daemon closes that uid's longest idle.
	env := harness.New(t)
	s, sock := daemon(t, env, nil)
	for i := 0; i < 1100; i++ {
		dial(t, sock)
	}
	site := env.Sites["revoked"]
	start := time.Now()
	if rep := ask(t, dial(t, sock), Request{Kind: KindDER, A: site.Leaf, B: site.Issuer}); outcome.Outcome(rep.Outcome) != outcome.Revoked {
		t.Errorf("after 1100 idle connections: %+v", rep)
	}
	if d := time.Since(start); d > 2*time.Second { // before: until the idle timeout (30 s)
		t.Errorf("answered after %v", d)
	}
	if all, mine := s.peers.count(uint32(os.Geteuid())); all > maxConnsPerUID || mine > maxConnsPerUID {
		t.Errorf("%d connections open (%d of this uid), want at most %d", all, mine, maxConnsPerUID)
	}
}

func FuzzParseReply(f *testing.F) {
	var b [ReplySize]byte
	PutReply(b[:], Reply{Status: StatusRefused, Outcome: 2, Allowed: true})
	f.Add(b[:])
	f.Add([]byte("RCA1"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := ParseReply(msg)
		if err != nil {
			return
		}
		var out [ReplySize]byte
		PutReply(out[:], r)
		if !bytes.Equal(out[:], msg) {
			t.Fatalf("re-encoding differs")
		}
	})
}

// A connection remembers its client's context between requests (the
// adapter sends the same one each time); a request with another context
// must be decided on its own, in both directions, and requests written
// before the first reply is read are each answered, in order.
func TestDaemonContextMemoAndPipelining(t *testing.T) {
	env := harness.New(t)
	_, sock := daemon(t, env, nil)
	c := dial(t, sock)
	s := env.Sites["revoked"]
	served := Request{Kind: KindDER, A: s.Leaf, B: s.Issuer, Context: "HOME=/nonexistent\x00"}
	refused := Request{Kind: KindDER, A: s.Leaf, B: s.Issuer, Context: "config=/x.toml\x00"}
	for i, r := range []Request{served, served, refused, refused, served, refused} {
		rep := ask(t, c, r)
		want := StatusOK
		if r.Context == refused.Context {
			want = StatusRefused
		}
		if rep.Status != int32(want) || (want == StatusOK && outcome.Outcome(rep.Outcome) != outcome.Revoked) {
			t.Errorf("request %d (%q): %+v, want status %d", i, r.Context, rep, want)
		}
	}
	good := env.Sites["good"]
	var batch []byte
	for i := 0; i < 8; i++ {
		r := served
		if i%2 == 1 {
			r.A, r.B = good.Leaf, good.Issuer
		}
		if _, err := c.Write(AppendRequest(batch[:0], r)); err != nil {
			t.Fatal(err)
		}
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := 0; i < 8; i++ {
		var b [64]byte
		n, err := c.Read(b[:])
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		rep, err := ParseReply(b[:n])
		if want := i%2 == 1; err != nil || rep.Allowed != want {
			t.Errorf("reply %d: %+v %v, want allowed %v", i, rep, err, want)
		}
	}
}

// The daemon's path allocates nothing per request once the connection's
// context is remembered.
func TestAnswerNoAlloc(t *testing.T) {
	env := harness.New(t)
	s, _ := daemon(t, env, nil)
	site := env.Sites["good"]
	msg := AppendRequest(nil, Request{Kind: KindDER, A: site.Leaf, B: site.Issuer, Context: "HOME=/root\x00"})
	var memo clientMemo
	if rep := s.answer(0, msg, &memo); rep.Status != StatusOK || !rep.Allowed {
		t.Fatalf("first answer: %+v", rep)
	}
	if n := testing.AllocsPerRun(200, func() { s.answer(0, msg, &memo) }); n != 0 {
		t.Errorf("%v allocations per request, want 0", n)
	}
}
