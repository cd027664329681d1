package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"runtime/debug"

	"github.com/revocheck/revocheck/core/cache"
	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/crlset"
	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"
	"github.com/revocheck/revocheck/core/mapped"
)

const verifyUsage = `[flags]

Verifies the cache without network: the checkers load it (clubcard cache and
CRL sets) without an error; every file listed by manifest.json has the listed
size and SHA-256; index.bin parses and names only present filters that
parse; the index states exactly the coverage the filters declare; CRL sets
(crlsets/) match their own manifest and parse; the preloaded intermediates
(intermediates/), when synced, match their manifest and parse, and their
index is exactly the one a sync would build from them; the CT log list
(ctlogs/) matches its manifest and parses. Every file is opened as the
checkers open it (regular files only, at most 1 GiB, never blocking), so
what verify accepts they read, and what they refuse verify reports. Exit 1
on any problem.`

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
	v.readers(cfg.CacheDir)
	v.cache(cfg.CacheDir)
	v.intermediates(cfg.CacheDir)
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

// readers loads the cache as every checker does and reports what they
// would refuse: the verdict of the code that answers checks, not a second
// opinion.
func (v *verifier) readers(dir string) {
	c, err := cache.Open(dir, cache.Options{StatInterval: -1})
	if err != nil {
		v.bad("checkers cannot load the cache: %v", err)
	} else {
		if g := c.Generation(); g != nil {
			for _, f := range g.Files {
				if f.Error != "" {
					v.bad("checkers cannot use a filter: %s", f.Error)
				}
			}
		}
		c.Close()
	}
	st := crlset.OpenStore(filepath.Join(dir, crlset.Dir))
	if err := st.Status().Err; err != nil {
		v.bad("checkers cannot load the CRL sets: %v", err)
	}
	st.Close()
}

// mapFile opens a cache file exactly as the checkers do (core/mapped) and
// runs use on its bytes with memory faults turned into errors.
func mapFile(path string, use func([]byte) error) (err error) {
	f, err := mapped.Map(path, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	defer mapped.Guard(debug.SetPanicOnFault(true), &err)
	return use(f.Data)
}

// maxManifest bounds a manifest as the checkers bound it.
const maxManifest = 16 << 20

// manifestFiles checks every file a manifest lists; it returns the manifest
// (nil when absent or unreadable).
func (v *verifier) manifestFiles(dir string, required bool) *manifest.Manifest {
	path := filepath.Join(dir, "manifest.json")
	data, _, err := mapped.ReadFile(path, maxManifest)
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
		var size int
		var sum [32]byte
		if err := mapFile(p, func(b []byte) error {
			size, sum = len(b), sha256.Sum256(b)
			return nil
		}); err != nil {
			v.bad("%s: listed in %s: %v", f.Filename, path, err)
			continue
		}
		switch {
		case int64(size) != f.Size:
			v.bad("%s: size %d, manifest says %d", p, size, f.Size)
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
	ixf, err := mapped.Map(ixPath, 0)
	if err != nil {
		v.bad("%v", err)
		return
	}
	defer ixf.Close()
	var ix *index.Index
	if err := func() (err error) {
		defer mapped.Guard(debug.SetPanicOnFault(true), &err)
		ix, err = index.Parse(ixf.Data)
		return err
	}(); err != nil {
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
		err := mapFile(filepath.Join(dir, name), func(b []byte) error {
			f, err := clubcard.Parse(b)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			for _, c := range f.Coverage() {
				k := key{i, c.LogID}
				declared[k] = append(declared[k], [2]uint64{c.Low, c.High})
			}
			return nil
		})
		if err != nil {
			v.bad("%s names %s: %v", ixPath, name, err)
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
			p := filepath.Join(cdir, f.Filename)
			if mapped.Stat(p).Errno != 0 {
				continue // already reported
			}
			err := mapFile(p, func(b []byte) error {
				s, err := crlset.Parse(b)
				if err == nil {
					err = s.Verify()
				}
				return err
			})
			if err != nil {
				v.bad("%s: %v", p, err)
			}
		}
	}
	// The CT log list: its own tree and manifest; parsed as policy.ct reads it.
	ldir := filepath.Join(dir, ctlog.Dir)
	if m := v.manifestFiles(ldir, false); m != nil {
		p := filepath.Join(ldir, ctlog.FileName)
		if data, _, err := mapped.ReadFile(p, ctlog.MaxFileSize); err != nil {
			v.bad("%v", err)
		} else if _, err := ctlog.Parse(data); err != nil {
			v.bad("%s: %v", p, err)
		}
	}
}
