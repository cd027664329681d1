package main

// Where revocheck's libraries are installed, as `revocheck enable` looks
// for them.

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/revocheck/revocheck/core/paths"
)

// multiarch is Debian's library directory name for this architecture.
func multiarch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64-linux-gnu"
	case "arm64":
		return "aarch64-linux-gnu"
	case "386":
		return "i386-linux-gnu"
	case "arm":
		return "arm-linux-gnueabihf"
	case "ppc64le":
		return "powerpc64le-linux-gnu"
	case "s390x":
		return "s390x-linux-gnu"
	case "riscv64":
		return "riscv64-linux-gnu"
	}
	return ""
}

// findLib returns the system path (not root-prefixed) of rel (e.g.
// "librevocheck-gnutls.so") in revocheck's library directory.
func (o *enableOpts) findLib(rel string) (string, error) {
	var dirs []string
	if o.libdir != "" {
		dirs = []string{o.libdir}
	} else {
		var prefixes []string
		if o.prefix != "" {
			prefixes = append(prefixes, o.prefix)
		} else {
			// Where `make install` put it (compiled in), then this
			// executable's own prefix (the build tree: build/bin/../lib);
			// the usual prefixes only in a build that has no libdir.
			if paths.LibDir != "" {
				dirs = append(dirs, paths.LibDir)
			}
			if o.live() {
				if exe, err := os.Executable(); err == nil {
					if r, err := filepath.EvalSymlinks(exe); err == nil {
						exe = r
					}
					prefixes = append(prefixes, filepath.Dir(filepath.Dir(exe)))
				}
			}
			if paths.LibDir == "" {
				prefixes = append(prefixes, "/usr", "/usr/local")
			}
		}
		for _, p := range prefixes {
			if ma := multiarch(); ma != "" {
				dirs = append(dirs, filepath.Join(p, "lib", ma))
			}
			dirs = append(dirs, filepath.Join(p, "lib64"), filepath.Join(p, "lib"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, rel)
		if fi, err := os.Stat(o.sys(p)); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s (install it with `make install`, or name the directory with --libdir)",
		rel, strings.Join(dirs, ", "))
}
