package fetch

import (
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzParseManifest checks both manifest paths (clubcard tree through
// core/manifest, crlsets tree decoded here): no panic, and whatever is
// accepted is safe to act on.
func FuzzParseManifest(f *testing.F) {
	h := strings.Repeat("ab", 32)
	f.Add([]byte(`{"generated_at":1,"comment":"","files":[{"filename":"a.filter","size":3,"hash":"` + h + `"}]}`))
	f.Add([]byte(`{"generated_at":1,"comment":"x","filters":[{"filename":"b.delta","size":0,"hash":"` + h + `"}]}`))
	f.Add([]byte(`{"generated_at":1,"files":[{"filename":"../x","size":1,"hash":"` + h + `"}]}`))
	f.Add([]byte(`{"files":[],"filters":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, tr := range trees {
			m, err := parseManifest(data, tr.rule, tr.index)
			if err != nil {
				if m != nil {
					t.Fatal("manifest with an error")
				}
				continue
			}
			seen := map[string]bool{}
			for _, fl := range m.Files {
				if tr.rule(fl.Filename) != nil || seen[fl.Filename] {
					t.Fatalf("accepted name %q", fl.Filename)
				}
				if strings.ContainsAny(fl.Filename, "/\\\x00") || strings.HasPrefix(fl.Filename, ".") {
					t.Fatalf("unsafe name %q", fl.Filename)
				}
				seen[fl.Filename] = true
				if fl.Size < 0 || fl.Size > MaxFileSize || hex.EncodeToString(fl.sum[:]) != fl.Hash {
					t.Fatalf("entry %+v", fl)
				}
			}
		}
	})
}
