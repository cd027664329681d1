package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/crlset"
	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"
)

const verifyUsage = `[flags]

Verifies the cache without network: every file listed by manifest.json has
the listed size and SHA-256; index.bin parses and names only present filters
that parse; the index states exactly the coverage the filters declare; CRL
sets (crlsets/) match their own manifest and parse. Exit 1 on any problem.`

func cmdVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", verifyUsage, stderr)
	var cf configFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	v := &verifier{out: stdout}
	v.cache(cfg.CacheDir)
	if v.problems > 0 {
		return &exitError{code: 1, err: fmt.Errorf("verify: %s: %d problem(s)", cfg.CacheDir, v.problems)}
	}
	fmt.Fprintf(stdout, "ok: %s: %d file(s) verified\n", cfg.CacheDir, v.files)
	return nil
}

type verifier struct {
	out      io.Writer
	problems int
	files    int
}

func (v *verifier) bad(format string, args ...any) {
	v.problems++
	fmt.Fprintf(v.out, "problem: "+format+"\n", args...)
}

// manifestFiles checks every file a manifest lists; it returns the manifest
// (nil when absent or unreadable).
func (v *verifier) manifestFiles(dir string, required bool) *manifest.Manifest {
	path := filepath.Join(dir, "manifest.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		v.bad("%v", err)
		return nil
	}
	m, err := manifest.Parse(data)
	if err != nil {
		v.bad("%s: %v", path, err)
		return nil
	}
	for _, f := range m.Files {
		p := filepath.Join(dir, f.Filename)
		b, err := os.ReadFile(p)
		if err != nil {
			v.bad("%s: listed in %s: %v", f.Filename, path, err)
			continue
		}
		sum := sha256.Sum256(b)
		switch {
		case int64(len(b)) != f.Size:
			v.bad("%s: size %d, manifest says %d", p, len(b), f.Size)
		case hex.EncodeToString(sum[:]) != f.Hash:
			v.bad("%s: sha256 %x, manifest says %s", p, sum, f.Hash)
		default:
			v.files++
		}
	}
	return m
}

func (v *verifier) cache(dir string) {
	v.manifestFiles(dir, true)
	ixPath := filepath.Join(dir, "index.bin")
	data, err := os.ReadFile(ixPath)
	if err != nil {
		v.bad("%v", err)
		return
	}
	ix, err := index.Parse(data)
	if err != nil {
		v.bad("%s: %v", ixPath, err)
		return
	}
	// What the filters declare, per (file, log) → interval list.
	type key struct {
		file int
		log  [32]byte
	}
	declared := map[key][][2]uint64{}
	for i, name := range ix.Filenames() {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			v.bad("%s names %s: %v", ixPath, name, err)
			continue
		}
		f, err := clubcard.Parse(b)
		if err != nil {
			v.bad("%s: %v", name, err)
			continue
		}
		for _, c := range f.Coverage() {
			k := key{i, c.LogID}
			declared[k] = append(declared[k], [2]uint64{c.Low, c.High})
		}
	}
	var entries []index.Entry
	for l := 0; l < ix.NumLogs(); l++ {
		var logID [32]byte
		logID, entries = ix.Log(l, entries[:0])
		for _, e := range entries {
			k := key{int(e.FilterIdx), logID}
			ivs := declared[k]
			found := -1
			for j, iv := range ivs {
				if iv == [2]uint64{e.Min, e.Max} {
					found = j
				}
			}
			if found < 0 {
				v.bad("index.bin: %s covers log %x [%d, %d], the filter does not declare it", ix.Filenames()[e.FilterIdx], logID[:8], e.Min, e.Max)
				continue
			}
			declared[k] = append(ivs[:found], ivs[found+1:]...)
		}
	}
	for k, ivs := range declared {
		for _, iv := range ivs {
			v.bad("index.bin: lacks %s's coverage of log %x [%d, %d]", ix.Filenames()[k.file], k.log[:8], iv[0], iv[1])
		}
	}
	// CRL sets: their own tree and manifest.
	cdir := filepath.Join(dir, crlset.Dir)
	if m := v.manifestFiles(cdir, false); m != nil {
		for _, f := range m.Files {
			b, err := os.ReadFile(filepath.Join(cdir, f.Filename))
			if err != nil {
				continue // already reported
			}
			if _, err := crlset.Parse(b); err != nil {
				v.bad("%s: %v", filepath.Join(cdir, f.Filename), err)
			}
		}
	}
}
