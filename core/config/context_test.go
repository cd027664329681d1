package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Another process's configuration is rebuilt from its environment alone,
// and says where its cache was set.
func TestLoadFromAndCacheOrigin(t *testing.T) {
	dir := t.TempDir()
	xdg := filepath.Join(dir, "xdg")
	f := filepath.Join(xdg, UserFileXDG)
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte("# user\n\ncache-dir = \"/u\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFrom("", envOf(map[string]string{"XDG_CONFIG_HOME": xdg}))
	if err != nil || c.CacheDir != "/u/revocation" || c.CacheOrigin() != "cache /u/revocation, from cache-dir in "+f+":3" {
		t.Errorf("user file: %v %q", err, c.CacheOrigin())
	}
	c, _ = LoadFrom("", envOf(map[string]string{"XDG_CONFIG_HOME": xdg, "REVOCHECK_CACHE_DIR": "/e"}))
	if c.CacheOrigin() != "cache /e, from $REVOCHECK_CACHE_DIR" {
		t.Errorf("env: %q", c.CacheOrigin())
	}
	_ = c.ApplyOverrides("cache-dir=/o", "overrides")
	if c.CacheOrigin() != "cache /o, set by this adapter's cache-dir" {
		t.Errorf("override: %q", c.CacheOrigin())
	}
	if d := Default(); d.CacheOrigin() != "cache "+DefaultDataDir+", the built-in default" {
		t.Errorf("default: %q", d.CacheOrigin())
	}
	if UserFile(envOf(map[string]string{"HOME": "/h"})) != "/h/.config/revocheck/config.toml" || UserFile(envOf(nil)) != "" {
		t.Error("UserFile")
	}
}

func TestSystemOnly(t *testing.T) {
	for _, c := range []struct {
		explicit string
		env      map[string]string
		userFile bool
		dir      string
		ok       bool
	}{
		{"", nil, false, "", true},
		{"", map[string]string{"REVOCHECK_CACHE_DIR": "/c", "HOME": "/h"}, false, "/c", true},
		{"/x.toml", nil, false, "", false},
		{"", map[string]string{"REVOCHECK_CONFIG": "/x.toml"}, false, "", false},
		{"", nil, true, "", false},
		{"", map[string]string{"REVOCHECK_CACHE_DIR": "/c;cache-dir=/d"}, false, "", false},
	} {
		dir, err := SystemOnly(c.explicit, envOf(c.env), c.userFile)
		if dir != c.dir || (err == nil) != c.ok {
			t.Errorf("%+v: %q %v", c, dir, err)
		}
	}
}

func TestState(t *testing.T) {
	c := Default()
	if s, ok := c.State(nil); !ok || s != "ready (cache "+DefaultDataDir+")" {
		t.Errorf("%q %v", s, ok)
	}
	s, ok := c.State(errors.New("cache: no revocation data: no index.bin in /x"))
	if ok || !strings.HasPrefix(s, "no revocation data: no index.bin in /x (cache ") || !strings.HasSuffix(s, "; no-data policy applies") {
		t.Errorf("%q %v", s, ok)
	}
}
