package httpget

import (
	neturl "net/url"
	"testing"
)

func TestSameOrigin(t *testing.T) {
	allow := SameOrigin([]string{"cdn.example"})
	for _, c := range []struct {
		from, to string
		ok       bool
	}{
		{"https://upki.rustls.dev/revocation", "https://upki.rustls.dev/revocation/", true},
		{"http://mirror.example/", "https://mirror.example/", true},
		{"https://mirror.example/", "http://mirror.example/", false},
		{"https://mirror.example/", "https://mirror.example:8443/", false},
		{"https://mirror.example/", "https://evil.example/", false},
		{"https://mirror.example/", "https://cdn.example/x", true},
		{"https://mirror.example/", "https://CDN.example:444/x", true},
		{"https://mirror.example/", "http://cdn.example/x", false},
		{"https://mirror.example/", "ftp://mirror.example/", false},
	} {
		from, _ := neturl.Parse(c.from)
		to, _ := neturl.Parse(c.to)
		if got := allow(from, to); got != c.ok {
			t.Errorf("%s -> %s: %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}
