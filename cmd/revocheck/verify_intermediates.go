package main

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/revocheck/revocheck/core/intermediates"
)

// intermediates verifies the preloaded intermediates, when synced: the
// buckets match their manifest and parse, and the index is exactly the one
// the sync would build from them now (so a stale, damaged or foreign
// subjects.idx is reported).
func (v *verifier) intermediates(dir string) {
	idir := filepath.Join(dir, intermediates.Dir)
	m := v.manifestFiles(idir, false)
	if m == nil {
		return
	}
	for _, f := range m.Files {
		p := filepath.Join(idir, f.Filename)
		if err := mapFile(p, func(b []byte) error {
			_, err := intermediates.ParseBucket(b)
			return err
		}); err != nil && !errors.Is(err, fs.ErrNotExist) {
			v.bad("%s: %v", p, err)
		}
	}
	ders, meta, err := intermediates.ReadTree(idir)
	if err != nil {
		return // each cause reported above
	}
	want, _, err := intermediates.Build(ders, meta)
	if err != nil {
		v.bad("%s: %v", idir, err)
		return
	}
	ipath := filepath.Join(idir, intermediates.IndexFile)
	if err := mapFile(ipath, func(b []byte) error {
		if _, err := intermediates.Parse(b); err != nil {
			return err
		}
		if !bytes.Equal(b, want) {
			return errors.New("not the index of the synced set (the next revocheck fetch rebuilds it)")
		}
		return nil
	}); err != nil {
		v.bad("%s: %v", ipath, err)
		return
	}
	v.files++
}
