package fetch

import (
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/internal/cttest"
)

// The CT log list a mirror publishes (`mirror ctlogs` / `mirror mozilla`)
// is synced into <cache>/ctlogs/, validated before it takes its name; a
// damaged one is refused and the previous list kept.
func TestFetchCTLogs(t *testing.T) {
	a, err := cttest.NewLog("a", "A", false)
	if err != nil {
		t.Fatal(err)
	}
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fixture(t)})
	l, err := ctlog.ParseV3(cttest.V3(a), "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctlog.WriteTree(m.dir, l, time.Now()); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	res, err := syncOnce(t, m, cache)
	if err != nil {
		t.Fatal(err)
	}
	var got *TreeResult
	for i := range res.Trees {
		if res.Trees[i].Tree == "ctlogs" {
			got = &res.Trees[i]
		}
	}
	if got == nil || got.Downloaded != 1 {
		t.Fatalf("%+v", res.Trees)
	}
	st := ctlog.OpenStore(cache)
	defer st.Close()
	if cur, _ := st.Current(); cur == nil || cur.Find(&a.ID) == nil {
		t.Fatalf("synced list: %+v %v", cur, st.Err())
	}
	// A list whose bytes match its manifest but do not parse is refused.
	bad := []byte(`{"format":"revocheck-ctlogs/1","logs":[{"log_id":"AA=="}]}`)
	time.Sleep(1100 * time.Millisecond) // a newer generated_at than the first list's (no rollback)
	m.publish(t, ctlog.Dir, tfile{ctlog.FileName, bad})
	if _, err := syncOnce(t, m, cache); err == nil {
		t.Fatal("an unparsable CT log list was accepted")
	}
	st.Poll()
	if cur, _ := st.Current(); cur == nil || cur.Find(&a.ID) == nil {
		t.Fatalf("previous list lost: %v", st.Err())
	}
}
