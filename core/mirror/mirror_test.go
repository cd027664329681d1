package mirror

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/revocheck/revocheck/core/httpget"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/core/manifest"
	"github.com/revocheck/revocheck/internal/cttest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixtureDelta = "../../testdata/fixtures/mozilla-20260624-1-default.filter.delta"

// fakeRS is a local Remote Settings: server info, two collections and an
// attachments host, in the JSON shapes firefox.settings.services.mozilla.com
// serves (records carry extra fields the mirror must ignore).
type fakeRS struct {
	srv         *httptest.Server
	mu          sync.Mutex
	revocations []map[string]any
	inter       []map[string]any
	ctlogs      []map[string]any  // nil: no ct-logs collection (404)
	attachments map[string][]byte // location → bytes
	served      map[string]int    // path → requests
	corrupt     string            // location served with a flipped byte
}

func newFakeRS(t *testing.T) *fakeRS {
	f := &fakeRS{attachments: map[string][]byte{}, served: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.served[r.URL.Path]++
		switch {
		case r.URL.Path == "/v1/":
			json.NewEncoder(w).Encode(map[string]any{
				"project_name": "Remote Settings PROD", "http_api_version": "1.23",
				"capabilities": map[string]any{
					"attachments": map[string]any{"description": "Add file attachments to records", "base_url": f.srv.URL + "/attachments/", "bundle_max_size": 20971520},
				},
			})
		case r.URL.Path == "/v1/buckets/security-state/collections/cert-revocations/records":
			json.NewEncoder(w).Encode(map[string]any{"data": f.revocations})
		case r.URL.Path == "/v1/buckets/security-state/collections/intermediates/records":
			json.NewEncoder(w).Encode(map[string]any{"data": f.inter})
		case r.URL.Path == "/v1/buckets/security-state/collections/ct-logs/records" && f.ctlogs != nil:
			json.NewEncoder(w).Encode(map[string]any{"data": f.ctlogs})
		case strings.HasPrefix(r.URL.Path, "/attachments/"):
			loc := strings.TrimPrefix(r.URL.Path, "/attachments/")
			b, ok := f.attachments[loc]
			if !ok {
				http.NotFound(w, r)
				return
			}
			if loc == f.corrupt {
				b = bytes.Clone(b)
				b[0] ^= 1
			}
			w.Write(b)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

var seq int

// addFilter adds a cert-revocations record with its attachment.
func (f *fakeRS) addFilter(id, parent, channel, filename string, ts int64, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq++
	loc := fmt.Sprintf("security-state-workspace/cert-revocations/%08x-%d.bin", seq, ts)
	f.attachments[loc] = data
	sum := sha256.Sum256(data)
	rec := map[string]any{
		"schema": 1719000000000, "details": map[string]any{"name": fmt.Sprintf("%d-%s", ts, id)},
		"incremental": parent != "", "effectiveTimestamp": ts, "channel": channel,
		"filter_expression": "env.version|versionCompare('133.!') >= 0", "id": id, "last_modified": ts + 5,
		"attachment": map[string]any{"hash": hex.EncodeToString(sum[:]), "size": len(data), "filename": filename,
			"location": loc, "mimetype": "application/octet-stream"},
	}
	if parent != "" {
		rec["parent"] = parent
	} else {
		rec["coverage"] = []any{}
		rec["enrolledIssuers"] = []any{}
	}
	f.revocations = append(f.revocations, rec)
}

func (f *fakeRS) addIntermediate(t *testing.T, id string) []byte {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(len(id) + 1000)), Subject: pkix.Name{CommonName: "Test Intermediate " + id},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	f.mu.Lock()
	defer f.mu.Unlock()
	loc := "security-state-workspace/intermediates/" + id + ".pem"
	f.attachments[loc] = p
	ps, ds := sha256.Sum256(p), sha256.Sum256(der)
	f.inter = append(f.inter, map[string]any{
		"id": id, "derHash": base64.StdEncoding.EncodeToString(ds[:]), "subject": "CN=Test Intermediate " + id,
		"subjectDN": "MCkxJzAlBgNVBAMTHlRlc3Q=", "pubKeyHash": "AAAA", "crlite_enrolled": true, "last_modified": 1,
		"attachment": map[string]any{"hash": hex.EncodeToString(ps[:]), "size": len(p), "filename": id + ".pem",
			"location": loc, "mimetype": "application/x-pem-file"},
	})
	return der
}

func fastClient() *httpget.Client {
	c := httpget.NewClient()
	c.Backoff = 5 * time.Millisecond
	c.MaxBackoff = 20 * time.Millisecond
	return c
}

func run(t *testing.T, f *fakeRS, out string, inter bool) (*Result, error) {
	return Mirror(context.Background(), Options{BaseURL: f.srv.URL + "/v1", OutDir: out, Intermediates: inter,
		Client: fastClient(), Comment: "test"})
}

func readManifest(t *testing.T, path string) *manifest.Manifest {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	m, err := manifest.Parse(b)
	require.NoError(t, err)
	return m
}

func TestMirrorChainAndIntermediates(t *testing.T) {
	fx, err := os.ReadFile(fixtureDelta)
	require.NoError(t, err)
	f := newFakeRS(t)
	// An older full filter, the current one, three deltas (given out of
	// order), an orphan delta and another channel's records.
	f.addFilter("old-full", "", "default", "20260620-0-default.filter", 100, []byte("old full"))
	f.addFilter("full", "", "default", "20260623-0-default.filter", 200, []byte("full filter bytes"))
	f.addFilter("d2", "d1", "default", "20260624-0-default.filter.delta", 220, []byte("delta two"))
	f.addFilter("d1", "full", "default", "20260623-1-default.filter.delta", 210, []byte("delta one"))
	f.addFilter("d3", "d2", "default", "20260624-1-default.filter.delta", 230, fx)
	f.addFilter("orphan", "nobody", "default", "20260625-0-default.filter.delta", 240, []byte("orphan"))
	f.addFilter("compat-full", "", "compat", "20260623-0-compat.filter", 300, []byte("compat"))
	ders := [][]byte{f.addIntermediate(t, "i1"), f.addIntermediate(t, "i2"), f.addIntermediate(t, "i3")}

	out := t.TempDir()
	res, err := run(t, f, out, true)
	require.NoError(t, err)
	want := []string{"20260623-0-default.filter", "20260623-1-default.filter.delta", "20260624-0-default.filter.delta", "20260624-1-default.filter.delta"}
	require.Equal(t, want, res.Filters, "chain")
	m := readManifest(t, filepath.Join(out, "manifest.json"))
	var names []string
	for _, mf := range m.Files {
		names = append(names, mf.Filename)
		data, err := os.ReadFile(filepath.Join(out, mf.Filename))
		require.NoError(t, err)
		s := sha256.Sum256(data)
		assert.Equal(t, mf.Hash, hex.EncodeToString(s[:]), "%s: hash in the manifest", mf.Filename)
		assert.Equal(t, mf.Size, int64(len(data)), "%s: size in the manifest", mf.Filename)
	}
	require.Equal(t, want, names, "manifest order")
	raw, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	require.NoError(t, err)
	require.Contains(t, string(raw), `"files"`)
	// Intermediates: every certificate in the bucket its DER hash names.
	im := readManifest(t, filepath.Join(out, IntermediatesDir, "manifest.json"))
	require.Equal(t, 3, res.Intermediates, "intermediates")
	require.Len(t, im.Files, res.Buckets, "buckets in the intermediates manifest")
	for _, der := range ders {
		s := sha256.Sum256(der)
		b, err := os.ReadFile(filepath.Join(out, IntermediatesDir, fmt.Sprintf("%02x.pem", s[0])))
		require.NoError(t, err)
		require.Contains(t, string(b), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), "certificate missing from its bucket")
	}

	// Rerun: nothing downloaded again (filters by name+hash, PEMs cached).
	f.mu.Lock()
	f.served = map[string]int{}
	f.mu.Unlock()
	res, err = run(t, f, out, true)
	require.NoError(t, err)
	for p := range f.served {
		require.False(t, strings.HasPrefix(p, "/attachments/"), "rerun downloaded %s", p)
	}
	require.Zero(t, res.Downloaded, "filters downloaded by a rerun")

	// A new full filter starts a new chain; the old files stay one run.
	f.addFilter("full2", "", "default", "20260626-0-default.filter", 400, []byte("new full"))
	_, err = run(t, f, out, false)
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(out, want[0]), "previous generation's file removed at once")
	_, err = run(t, f, out, false)
	require.NoError(t, err)
	require.NoFileExists(t, filepath.Join(out, want[0]), "file two generations old kept")
	m = readManifest(t, filepath.Join(out, "manifest.json"))
	require.Len(t, m.Files, 1)
	require.Equal(t, "20260626-0-default.filter", m.Files[0].Filename)
}

func TestMirrorFiltersKey(t *testing.T) {
	f := newFakeRS(t)
	f.addFilter("full", "", "default", "a.filter", 1, []byte("full"))
	out := t.TempDir()
	_, err := Mirror(context.Background(), Options{BaseURL: f.srv.URL + "/v1", OutDir: out, Client: fastClient(), FiltersKey: true})
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	require.NoError(t, err)
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Contains(t, doc, "filters", "manifest %s", raw)
	assert.NotContains(t, doc, "files", "manifest %s", raw)
	assert.Len(t, readManifest(t, filepath.Join(out, "manifest.json")).Files, 1)
}

func TestMirrorRejectsCorruptAttachment(t *testing.T) {
	f := newFakeRS(t)
	f.addFilter("full", "", "default", "a.filter", 1, []byte("full"))
	f.corrupt = f.revocations[0]["attachment"].(map[string]any)["location"].(string)
	out := t.TempDir()
	_, err := run(t, f, out, false)
	require.ErrorContains(t, err, "does not match")
	require.Equal(t, httpget.Failed, httpget.KindOf(err), "kind of %v", err)
	require.NoFileExists(t, filepath.Join(out, "a.filter"), "corrupt attachment installed")
	require.NoFileExists(t, filepath.Join(out, "manifest.json"), "manifest written after a failure")
}

func TestChain(t *testing.T) {
	att := func(n string) *Attachment {
		return &Attachment{Filename: n, Hash: strings.Repeat("0", 64), Location: "x/" + n}
	}
	recs := []Record{
		{ID: "f", Channel: "default", EffectiveTimestamp: 1, Attachment: att("f.filter")},
		{ID: "a", Channel: "default", Incremental: true, Parent: "f", EffectiveTimestamp: 2, Attachment: att("a.delta")},
		{ID: "b", Channel: "default", Incremental: true, Parent: "f", EffectiveTimestamp: 3, Attachment: att("b.delta")},
		{ID: "c", Channel: "default", Incremental: true, Parent: "b", EffectiveTimestamp: 4, Attachment: att("c.delta")},
	}
	ch, err := Chain(recs, "default")
	require.NoError(t, err)
	var ids []string
	for _, r := range ch {
		ids = append(ids, r.ID)
	}
	require.Equal(t, []string{"f", "b", "c"}, ids, "chain (the newest child continues)")
	_, err = Chain(recs, "compat")
	require.Error(t, err, "no full filter in channel")
	// Chain takes records from anywhere (not only ParseRecords, which
	// rejects duplicate ids): a delta naming itself must not loop forever.
	loop := append(slices.Clone(recs), Record{ID: "c", Channel: "default", Incremental: true, Parent: "c", EffectiveTimestamp: 5, Attachment: att("z")})
	_, err = Chain(loop, "default")
	require.ErrorContains(t, err, "loops")
	bad := []Record{{ID: "f", Channel: "d", Attachment: att("../../etc/passwd")}}
	_, err = Chain(bad, "d")
	require.Error(t, err, "traversal file name accepted")
}

func TestParseRecordsRejects(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `{"data": 1}`, `{"data":[{"id":""}]}`, `{"data":[{"id":"a"},{"id":"a"}]}`,
		`{"data":[{"id":"a","attachment":{"location":"/etc/passwd","hash":"` + strings.Repeat("a", 64) + `","size":1}}]}`,
		`{"data":[{"id":"a","attachment":{"location":"a/../b","hash":"` + strings.Repeat("a", 64) + `","size":1}}]}`,
		`{"data":[{"id":"a","attachment":{"location":"http://evil/x","hash":"` + strings.Repeat("a", 64) + `","size":1}}]}`,
		`{"data":[{"id":"a","attachment":{"location":"a","hash":"ABC","size":1}}]}`,
		`{"data":[{"id":"a","attachment":{"location":"a","hash":"` + strings.Repeat("a", 64) + `","size":-1}}]}`,
	} {
		_, err := ParseRecords([]byte(in))
		assert.Error(t, err, in)
	}
	recs, err := ParseRecords([]byte(`{"data":[{"id":"x","incremental":false,"parent":null,"channel":"default","attachment":{"location":"a/b.bin","hash":"` + strings.Repeat("a", 64) + `","size":3,"filename":"b.filter"}}]}`))
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Empty(t, recs[0].Parent, "parent")
	require.NotNil(t, recs[0].Attachment)
	assert.EqualValues(t, 3, recs[0].Attachment.Size)
}

func FuzzParseRecords(f *testing.F) {
	f.Add([]byte(`{"data":[{"id":"x","incremental":true,"parent":"p","channel":"default","effectiveTimestamp":1,"attachment":{"location":"a/b.bin","hash":"` + strings.Repeat("a", 64) + `","size":3,"filename":"b.filter"}}]}`))
	f.Add([]byte(`{"data":[{"id":"p","incremental":false,"parent":null,"attachment":{"location":"q","hash":"` + strings.Repeat("0", 64) + `","size":0,"filename":"p.filter"}}]}`))
	f.Add([]byte(`{"data":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ParseRecords(data)
		if err != nil {
			if recs != nil {
				t.Fatal("records with an error")
			}
			return
		}
		for _, r := range recs {
			if r.ID == "" {
				t.Fatal("empty id accepted")
			}
			if a := r.Attachment; a != nil {
				if checkLocation(a.Location) != nil || len(a.Hash) != 64 || a.Size < 0 {
					t.Fatalf("bad attachment accepted: %+v", a)
				}
			}
		}
		// Chain must not panic and must return only safe names.
		for _, ch := range []string{"default", ""} {
			chain, err := Chain(recs, ch)
			if err != nil {
				continue
			}
			for _, r := range chain {
				if manifest.ValidateName(r.Attachment.Filename) != nil {
					t.Fatalf("unsafe name in chain: %q", r.Attachment.Filename)
				}
			}
		}
	})
}

func TestMirrorCTLogs(t *testing.T) {
	f := newFakeRS(t)
	f.addFilter("full", "", "default", "20260101-0-default.filter", 1767225600000, []byte("filter bytes"))
	out := t.TempDir()
	res, err := Mirror(context.Background(), Options{BaseURL: f.srv.URL + "/v1", OutDir: out, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if !res.CTLogsAbsent || res.CTLogs != 0 {
		t.Errorf("no collection: %+v", res)
	}
	l, err := cttest.NewLog("Argon", "Google", false)
	if err != nil {
		t.Fatal(err)
	}
	rec := map[string]any{"id": "x", "logID": base64.StdEncoding.EncodeToString(l.ID[:]), "key": base64.StdEncoding.EncodeToString(l.SPKI),
		"operator": "Google", "description": "Argon", "url": "https://argon/", "mmd": 86400, "admissible": true, "crlite_enrolled": true, "last_modified": 5}
	// The server grows the collection.
	f.mu.Lock()
	f.ctlogs = []map[string]any{rec}
	f.mu.Unlock()
	res, err = Mirror(context.Background(), Options{BaseURL: f.srv.URL + "/v1", OutDir: out, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if res.CTLogs != 1 {
		t.Fatalf("%+v", res)
	}
	data, err := os.ReadFile(filepath.Join(out, ctlog.Dir, ctlog.FileName))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ctlog.Parse(data)
	if err != nil || got.Find(&l.ID) == nil || got.Find(&l.ID).State != ctlog.Usable {
		t.Errorf("list %+v %v", got, err)
	}
}
