package main

import (
	"strings"
	"testing"
)

// FuzzP11KitConf: any module file gives a map of trimmed keys and an
// answer about p11-kit-proxy, never a panic; an enable-in: that does not
// name the proxy always keeps the module out (p11-kit's rule).
func FuzzP11KitConf(f *testing.F) {
	f.Add("module: /usr/lib/x86_64-linux-gnu/pkcs11/libnssrevocheck.so\n")
	f.Add("# Written by `revocheck disable nss`\nenable-in:\n")
	f.Add("disable-in: p11-kit-proxy, firefox\n")
	f.Add("enable-in: p11-kit-proxy\ndisable-in: p11-kit-proxy\n")
	f.Add(":::\n#x: y\n \t: \n")
	f.Fuzz(func(t *testing.T, data string) {
		conf := parseP11KitConf(data)
		for k := range conf {
			if k != strings.TrimSpace(k) {
				t.Fatalf("key %q not trimmed", k)
			}
		}
		why := p11kitKeepsOut(conf)
		if v, ok := conf["enable-in"]; ok && !strings.Contains(v, "p11-kit-proxy") && why == "" {
			t.Fatalf("enable-in %q leaves the proxy out, but the module counts as loaded", v)
		}
	})
}
