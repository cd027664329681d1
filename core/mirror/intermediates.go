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
	"slices"
	"sync"

	"github.com/revocheck/revocheck/core/httpget"
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

	type cert struct {
		sum [32]byte
		der []byte
	}
	buckets := map[byte][]cert{}
	seen := map[[32]byte]bool{}
	for _, der := range ders {
		s := sha256.Sum256(der)
		if seen[s] {
			continue
		}
		seen[s] = true
		buckets[s[0]] = append(buckets[s[0]], cert{s, der})
	}
	dir := filepath.Join(o.OutDir, IntermediatesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
	}
	m := &manifest.Manifest{GeneratedAt: o.Now().Unix(), Comment: o.Comment}
	keys := make([]int, 0, len(buckets))
	for b := range buckets {
		keys = append(keys, int(b))
	}
	slices.Sort(keys)
	for _, b := range keys {
		certs := buckets[byte(b)]
		slices.SortFunc(certs, func(x, y cert) int { return bytes.Compare(x.sum[:], y.sum[:]) })
		var buf bytes.Buffer
		for _, c := range certs {
			pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.der})
		}
		name := fmt.Sprintf("%02x.pem", b)
		sum := sha256.Sum256(buf.Bytes())
		if old, err := httpget.FileSHA256(filepath.Join(dir, name)); err != nil || old != sum {
			if err := writeAtomic(dir, name, buf.Bytes()); err != nil {
				return 0, 0, &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
			}
		}
		m.Files = append(m.Files, manifest.File{Filename: name, Size: int64(buf.Len()), Hash: fmt.Sprintf("%x", sum)})
	}
	if err := publish(dir, m, []string{".pem"}, o.FiltersKey); err != nil {
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
	return len(seen), len(keys), nil
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
