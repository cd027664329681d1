package ctlog

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/manifest"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func ecKey(t testing.TB) []byte {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return der
}

func rsaKey(t testing.TB) []byte {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return der
}

func mkLog(desc string, der []byte, state, ts string) map[string]any {
	id := sha256.Sum256(der)
	m := map[string]any{"description": desc, "log_id": b64(id[:]), "key": b64(der), "url": "https://" + desc + "/", "mmd": 86400}
	if state != "" {
		m["state"] = map[string]any{state: map[string]string{"timestamp": ts}}
	}
	return m
}

func TestV3RoundTrip(t *testing.T) {
	k1, k2, k3 := ecKey(t), rsaKey(t), ecKey(t)
	doc := map[string]any{
		"version": "1.0", "log_list_timestamp": "2026-01-02T03:04:05Z",
		"operators": []any{
			map[string]any{"name": "Op A", "email": []string{"a@example"}, "logs": []any{
				mkLog("a1", k1, "usable", "2025-01-01T00:00:00Z"),
				mkLog("a2", k2, "retired", "2025-06-01T00:00:00Z")}},
			map[string]any{"name": "Op B", "logs": []any{}, "tiled_logs": []any{mkLog("b1", k3, "", "")}},
		},
	}
	data, _ := json.Marshal(doc)
	l, err := ParseUpstream(data, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Logs) != 3 || l.Operators() != 2 || l.GeneratedAt != time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Unix() {
		t.Fatalf("parsed %+v", l)
	}
	id := sha256.Sum256(k2)
	g := l.Find(&id)
	if g == nil || g.State != Retired || g.StateTime != time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).UnixMilli() || g.Operator != "Op A" {
		t.Fatalf("a2 = %+v", g)
	}
	if _, ok := g.Public.(*rsa.PublicKey); !ok {
		t.Errorf("a2 key %T", g.Public)
	}
	id3 := sha256.Sum256(k3)
	if g := l.Find(&id3); g == nil || g.State != Pending {
		t.Errorf("a log without state must be pending: %+v", g)
	}
	dir := t.TempDir()
	path, err := WriteTree(dir, l, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Logs) != 3 || back.Logs[0].ID != l.Logs[0].ID || back.Source != "test" {
		t.Errorf("read back %+v", back)
	}
	mraw, _ := os.ReadFile(filepath.Join(dir, Dir, "manifest.json"))
	m, err := manifest.Parse(mraw)
	if err != nil || len(m.Files) != 1 || m.Files[0].Filename != FileName || m.Files[0].Size != int64(len(raw)) {
		t.Errorf("manifest %+v %v", m, err)
	}
}

func TestRecords(t *testing.T) {
	k1, k2 := ecKey(t), ecKey(t)
	id1, id2 := sha256.Sum256(k1), sha256.Sum256(k2)
	data := `{"data":[
	 {"id":"r1","logID":"` + b64(id1[:]) + `","key":"` + b64(k1) + `","operator":"Google","description":"Argon","url":"https://a/","mmd":86400,"admissible":true,"crlite_enrolled":true,"last_modified":1},
	 {"id":"r2","logID":"` + b64(id2[:]) + `","key":"` + b64(k2) + `","operator":"Bad","description":"Gone","url":"https://b/","mmd":86400,"admissible":false,"crlite_enrolled":false}]}`
	l, err := ParseUpstream([]byte(data), "rs")
	if err != nil {
		t.Fatal(err)
	}
	if g := l.Find(&id1); g == nil || g.State != Usable || g.Operator != "Google" {
		t.Errorf("admissible record: %+v", g)
	}
	if g := l.Find(&id2); g == nil || g.State != Rejected {
		t.Errorf("inadmissible record: %+v", g)
	}
}

func TestRejects(t *testing.T) {
	k1, k2 := ecKey(t), ecKey(t)
	wrongID := sha256.Sum256(k2)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	d384, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	good := mkLog("g", k1, "usable", "2025-01-01T00:00:00Z")
	cases := map[string]any{
		"wrong id":      map[string]any{"description": "x", "log_id": b64(wrongID[:]), "key": b64(k1), "mmd": 1, "state": good["state"]},
		"P-384":         mkLog("p", d384, "usable", "2025-01-01T00:00:00Z"),
		"bad state":     mkLog("s", k1, "sleeping", "2025-01-01T00:00:00Z"),
		"bad timestamp": mkLog("s", k1, "usable", "yesterday"),
		"duplicate":     nil,
	}
	for name, lg := range cases {
		logs := []any{lg}
		if lg == nil {
			logs = []any{good, good}
		}
		data, _ := json.Marshal(map[string]any{"operators": []any{map[string]any{"name": "o", "logs": logs}}})
		if _, err := ParseV3(data, ""); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	for _, bad := range []string{"", "{}", `{"operators":3}`, `[]`} {
		if _, err := ParseUpstream([]byte(bad), ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, bad := range []string{"", "{}", `{"format":"revocheck-ctlogs/1","logs":[{"log_id":"AA=="}]}`, `{"format":"x","logs":[]}`, `{"format":"revocheck-ctlogs/1","logs":[],"extra":1}`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("canonical %q accepted", bad)
		}
	}
	if _, err := Parse([]byte(strings.Repeat(" ", MaxFileSize+1))); err == nil {
		t.Error("oversize accepted")
	}
}

func FuzzParse(f *testing.F) {
	k := ecKey(f)
	l := &List{Source: "seed", Logs: []Log{}}
	g, err := newLog("", b64(k), "Op", "d", "u", 1, Usable, 5)
	if err != nil {
		f.Fatal(err)
	}
	l.Logs = append(l.Logs, g)
	seed, _ := l.Marshal()
	f.Add(seed)
	f.Add([]byte(`{"format":"revocheck-ctlogs/1","logs":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data)
		if err != nil {
			return
		}
		out, err := l.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("a parsed list does not read back: %v", err)
		}
	})
}

func FuzzParseUpstream(f *testing.F) {
	k := ecKey(f)
	v3, _ := json.Marshal(map[string]any{"operators": []any{map[string]any{"name": "o", "logs": []any{mkLog("a", k, "usable", "2025-01-01T00:00:00Z")}}}})
	f.Add(v3)
	id := sha256.Sum256(k)
	f.Add([]byte(`{"data":[{"logID":"` + b64(id[:]) + `","key":"` + b64(k) + `","operator":"o","admissible":true}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseUpstream(data, "")
		if err != nil {
			return
		}
		if _, err := l.Marshal(); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseKey(f *testing.F) {
	f.Add(ecKey(f))
	f.Add(rsaKey(f))
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		pub, err := ParseKey(der)
		if err != nil {
			return
		}
		back, err := x509.ParsePKIXPublicKey(der) // the standard library agrees
		if err != nil {
			t.Fatalf("accepted a key crypto/x509 refuses: %v", err)
		}
		if eq, ok := back.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
			t.Fatal("a different key than crypto/x509's")
		}
	})
}
