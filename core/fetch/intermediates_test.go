package fetch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/revocheck/revocheck/core/intermediates"
)

// The intermediates set is synced into <cache>/intermediates/ and indexed
// there; a no-op run leaves the index alone, a new generation rebuilds it,
// a set the mirror drops takes its index with it, and a manifest that
// names the index's own file is refused.
func TestIntermediatesIndexed(t *testing.T) {
	_, caDER, _ := privateCA(t)
	m := newMirror(t)
	m.publish(t, "revocation", tfile{"a.filter", fixture(t)})
	b := intermediates.Buckets([][]byte{caDER})
	m.publish(t, "revocation/intermediates", tfile{b[0].Name, b[0].PEM})
	cache := t.TempDir()
	withInter := func(o *Options) { o.URL += "/revocation/"; o.Intermediates = true; o.SkipCRLSets = true }
	res, err := syncOnce(t, m, cache, withInter)
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Trees[len(res.Trees)-1]
	if tr.Tree != "intermediates" || !tr.IndexBuilt || tr.IndexCerts != 1 {
		t.Fatalf("%+v", tr)
	}
	dir := filepath.Join(cache, intermediates.Dir)
	if !intermediates.IndexCurrent(dir) {
		t.Fatal("index not current after the sync")
	}
	s := intermediates.NewSet(dir)
	info, ok, err := s.Info()
	s.Close()
	if !ok || err != nil || info.Count != 1 {
		t.Fatalf("info %+v %v %v", info, ok, err)
	}
	// No-op: not rebuilt.
	st0, _ := os.Stat(filepath.Join(dir, intermediates.IndexFile))
	res, err = syncOnce(t, m, cache, withInter)
	if err != nil || res.Trees[len(res.Trees)-1].IndexBuilt {
		t.Fatalf("no-op: %+v %v", res.Trees, err)
	}
	if st1, _ := os.Stat(filepath.Join(dir, intermediates.IndexFile)); !os.SameFile(st0, st1) {
		t.Fatal("no-op run replaced the index")
	}
	// The index lost (or a crash before it was written): rebuilt.
	os.Remove(filepath.Join(dir, intermediates.IndexFile))
	if res, err = syncOnce(t, m, cache, withInter); err != nil || !res.Trees[len(res.Trees)-1].IndexBuilt {
		t.Fatalf("missing index: %+v %v", res.Trees, err)
	}
	// A manifest naming the index is refused; the old set and index stay.
	m.publish(t, "revocation/intermediates", tfile{intermediates.IndexFile, []byte("x")})
	if _, err := syncOnce(t, m, cache, withInter); err == nil {
		t.Fatal("a manifest listing subjects.idx was accepted")
	}
	if !intermediates.IndexCurrent(dir) {
		t.Fatal("refused generation touched the index")
	}
	// The mirror drops the set: the index goes with it.
	os.RemoveAll(filepath.Join(m.dir, "revocation/intermediates"))
	if _, err := syncOnce(t, m, cache, withInter); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, intermediates.IndexFile)); !os.IsNotExist(err) {
		t.Fatalf("index left behind: %v", err)
	}
}
