package checkd

import (
	"bytes"
	"log"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
)

// askIssuers sends a KindIssuers request and returns the reply and the
// DER that follows it.
func askIssuers(t *testing.T, sock string, r Request) (Reply, []byte) {
	t.Helper()
	c := dial(t, sock)
	r.Kind = KindIssuers
	if _, err := c.Write(AppendRequest(nil, r)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, ReplySize+MaxPart+1)
	n, err := c.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if n < ReplySize || n > ReplySize+MaxPart {
		t.Fatalf("reply of %d bytes", n)
	}
	rep, err := ParseReply(b[:ReplySize])
	if err != nil {
		t.Fatal(err)
	}
	return rep, b[ReplySize:n]
}

// The daemon answers completion requests from the same data and under the
// same per-client configuration as checks.
func TestDaemonFindIssuers(t *testing.T) {
	env := harness.New(t)
	site := env.Sites["good"]
	env.PreloadIntermediates(t, site.Issuer)
	_, sock := daemon(t, env, nil)

	rep, der := askIssuers(t, sock, Request{A: site.Leaf})
	if rep.Status != StatusOK || rep.Outcome != 1 || !bytes.Equal(der, site.Issuer) {
		t.Fatalf("leaf: %+v, %d bytes", rep, len(der))
	}
	// The client's own setting turns it off, as in-process.
	for _, ov := range []string{"intermediates=off", "intermediates.complete=false"} {
		if rep, der := askIssuers(t, sock, Request{A: site.Leaf, Overrides: ov}); rep.Status != StatusOK || rep.Outcome != 0 || len(der) != 0 {
			t.Fatalf("%s: %+v, %d bytes", ov, rep, len(der))
		}
	}
	// The issuer's own issuer (the root) is not in the set: none.
	if rep, der := askIssuers(t, sock, Request{A: site.Issuer}); rep.Status != StatusOK || rep.Outcome != 0 || len(der) != 0 {
		t.Fatalf("issuer: %+v, %d bytes", rep, len(der))
	}
	if rep, _ := askIssuers(t, sock, Request{A: []byte("not a certificate")}); rep.Status != StatusInvalid || rep.Outcome != 0 {
		t.Fatalf("garbage: %+v", rep)
	}
}

// BenchmarkIssuers is one completion request through the daemon on a
// connection of its own (what rc_find_issuers does), against the same
// lookup in-process (revocheck_find_issuers' work without cgo).
func BenchmarkIssuers(b *testing.B) {
	env := harness.New(b)
	site := env.Sites["good"]
	env.PreloadIntermediates(b, site.Issuer)
	s, err := New("", "cache-dir="+env.CacheDir, log.New(os.Stderr, "", 0))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ln, _, err := Listen(filepath.Join(b.TempDir(), "check.sock"))
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go s.Serve(ln)
	msg := AppendRequest(nil, Request{Kind: KindIssuers, A: site.Leaf})
	rep := make([]byte, ReplySize+MaxPart)
	b.Run("daemon-connect-per-request", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			c, err := net.Dial("unixpacket", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			c.Write(msg)
			if n, err := c.Read(rep); err != nil || n != ReplySize+len(site.Issuer) {
				b.Fatalf("%d %v", n, err)
			}
			c.Close()
		}
	})
	b.Run("in-process", func(b *testing.B) {
		v, _ := s.checker(unknownUID, "")
		defer v.release()
		for i := 0; i < b.N; i++ {
			if got, err := v.c.FindIssuers(site.Leaf); len(got) != 1 || err != nil {
				b.Fatal(err)
			}
		}
	})
}
