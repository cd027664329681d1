package mirror

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/revocheck/revocheck/core/httpget"
	"github.com/revocheck/revocheck/core/intermediates"
	"github.com/revocheck/revocheck/core/manifest"
)

// IntermediatesDir is the subtree holding the CA intermediates.
const IntermediatesDir = "intermediates"

// maxPEM bounds one intermediate's attachment.
const maxPEM = 64 << 10

// mirrorIntermediates pulls the intermediates collection (one PEM
// attachment per record), verifies every attachment's size and SHA-256 and
// (when the record has one) derHash, and writes the certificates as
// intermediates/XX.pem buckets, XX being the first byte of SHA-256(DER) in
// hex, each bucket the PEM blocks sorted by that hash. Attachments are
// cached under <out>/.cache/intermediates/<hash> so a rerun downloads only
// new ones.
func mirrorIntermediates(ctx context.Context, o *Options, base, att string) (int, int, error) {
	records, err := getRecords(ctx, o.Client, base+collections+"intermediates/records")
	if err != nil {
		return 0, 0, err
	}
	cache := filepath.Join(o.OutDir, ".cache", "intermediates")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return 0, 0, &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
	}
	var todo []Record
	for _, r := range records {
		if r.Attachment == nil {
			continue // a record without a PEM has nothing to mirror
		}
		if r.Attachment.Size > maxPEM {
			return 0, 0, &httpget.Error{Err: fmt.Errorf("mirror: intermediate %q: attachment of %d bytes", r.ID, r.Attachment.Size)}
		}
		todo = append(todo, r)
	}

	// Download (or find in the cache) every attachment, a few at a time.
	ders := make([][]byte, len(todo))
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.Workers)
	for i, r := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			a := r.Attachment
			if _, err := install(ctx, o.Client, cache, a.Hash, att+a.Location, a.Size, a.Hash); err != nil {
				errs[i] = err
				return
			}
			data, err := os.ReadFile(filepath.Join(cache, a.Hash))
			if err != nil {
				errs[i] = &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
				return
			}
			der, err := certFromPEM(data, r.DERHash)
			if err != nil {
				errs[i] = &httpget.Error{Err: fmt.Errorf("mirror: intermediate %q: %v", r.ID, err)}
				return
			}
			ders[i] = der
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, 0, err
		}
	}

	n, nb, _, err := WriteIntermediates(filepath.Join(o.OutDir, IntermediatesDir), ders, o.Now().Unix(), o.Comment, o.FiltersKey)
	if err != nil {
		return 0, 0, err
	}
	// Forget cached attachments no record names any more.
	want := map[string]bool{}
	for _, r := range todo {
		want[r.Attachment.Hash] = true
	}
	if ents, err := os.ReadDir(cache); err == nil {
		for _, e := range ents {
			if !want[e.Name()] {
				os.Remove(filepath.Join(cache, e.Name()))
			}
		}
	}
	return n, nb, nil
}

// WriteIntermediates publishes ders in dir as upki lays the intermediates
// out (XX.pem buckets, manifest.json; intermediates.Buckets) and then
// builds the index revocheck's readers look up (intermediates.BuildIndex):
// the tree a mirror serves and, written into a cache's intermediates/, a
// set its readers use directly. A bucket whose bytes are unchanged is not
// rewritten; buckets that leave are removed one run later (publish).
func WriteIntermediates(dir string, ders [][]byte, generatedAt int64, comment string, filtersKey bool) (certs, buckets int, tree *intermediates.Tree, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, nil, &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
	}
	m := &manifest.Manifest{GeneratedAt: generatedAt, Comment: comment}
	for _, b := range intermediates.Buckets(ders) {
		sum := sha256.Sum256(b.PEM)
		if old, err := httpget.FileSHA256(filepath.Join(dir, b.Name)); err != nil || old != sum {
			if err := writeAtomic(dir, b.Name, b.PEM); err != nil {
				return 0, 0, nil, &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
			}
		}
		m.Files = append(m.Files, manifest.File{Filename: b.Name, Size: int64(len(b.PEM)), Hash: fmt.Sprintf("%x", sum)})
	}
	if err := publish(dir, m, []string{".pem"}, filtersKey); err != nil {
		return 0, 0, nil, err
	}
	tree, err = intermediates.BuildIndex(dir)
	if err != nil {
		return 0, 0, nil, &httpget.Error{Err: fmt.Errorf("mirror: intermediates index: %w", err)}
	}
	seen := map[[32]byte]bool{}
	for _, der := range ders {
		seen[sha256.Sum256(der)] = true
	}
	return len(seen), len(m.Files), tree, nil
}

// certFromPEM returns the DER of the single CERTIFICATE block in data,
// checked to be one well-formed DER SEQUENCE, and, when derHash (base64,
// standard or URL alphabet) is given, to hash to it.
func certFromPEM(data []byte, derHash string) ([]byte, error) {
	b, rest := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("attachment is not a PEM certificate")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("attachment has data after the certificate")
	}
	var v asn1.RawValue
	trail, err := asn1.Unmarshal(b.Bytes, &v)
	if err != nil || len(trail) != 0 || v.Tag != asn1.TagSequence || !v.IsCompound {
		return nil, fmt.Errorf("attachment is not a DER certificate")
	}
	if derHash != "" {
		want, err := base64.StdEncoding.DecodeString(derHash)
		if err != nil {
			want, err = base64.URLEncoding.DecodeString(derHash)
		}
		if err != nil || len(want) != 32 {
			return nil, fmt.Errorf("derHash %q is not a base64 SHA-256", derHash)
		}
		if s := sha256.Sum256(b.Bytes); !bytes.Equal(s[:], want) {
			return nil, fmt.Errorf("certificate does not match its derHash")
		}
	}
	return b.Bytes, nil
}
