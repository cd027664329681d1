package main

// inspect: the cache's own files beside the filters — index.bin, a CRL
// set, a manifest — each recognised by its bytes.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/revocheck/revocheck/core/crlset"
	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"
)

// inspectIndex, inspectCRLSet and inspectManifest are the fields of those
// formats in an inspectReport.
type inspectIndex struct {
	Filenames []string     `json:"filenames"`
	Logs      []inspectLog `json:"logs"`
}

type inspectCRLSet struct {
	GeneratedAt string              `json:"generated_at"`
	Entries     uint64              `json:"entries"`
	Issuers     []inspectCRLIssuers `json:"crl_issuers"`
}

type inspectCRLIssuers struct {
	SPKIHash   string `json:"issuer_spki_sha256"` // hex
	Revoked    int    `json:"revoked"`
	ThisUpdate string `json:"this_update"`
	NextUpdate string `json:"next_update,omitempty"`
}

type inspectManifest struct {
	GeneratedAt string `json:"generated_at"`
	Comment     string `json:"comment,omitempty"`
	Files       int    `json:"files"`
	Bytes       int64  `json:"bytes"`
}

// identifyMore recognises the formats with a magic or a shape of their own;
// ok is false when data is none of them.
func identifyMore(r *inspectReport, data []byte) (ok bool, err error) {
	switch {
	case bytes.HasPrefix(data, []byte(index.Magic1)) || bytes.HasPrefix(data, []byte(index.Magic0)):
		ix, err := index.Parse(data)
		if err != nil {
			return true, err
		}
		r.Format, r.Version = "index", ix.Version()
		r.Index = &inspectIndex{Filenames: ix.Filenames()}
		var entries []index.Entry
		for l := 0; l < ix.NumLogs(); l++ {
			var id [32]byte
			id, entries = ix.Log(l, entries[:0])
			for _, e := range entries {
				r.Index.Logs = append(r.Index.Logs, inspectLog{LogID: hex.EncodeToString(id[:]),
					FromMs: e.Min, ToMs: e.Max, From: msTime(e.Min), To: msTime(e.Max)})
			}
		}
		return true, nil
	case bytes.HasPrefix(data, []byte(crlset.Magic)):
		s, err := crlset.Parse(data)
		if err != nil {
			return true, err
		}
		r.Format = "crlset"
		n := s.NumIssuers()
		r.Issuers = &n
		r.CRLSet = &inspectCRLSet{GeneratedAt: s.GeneratedAt().Format(time.RFC3339), Entries: s.NumEntries()}
		for _, is := range s.Issuers() {
			ci := inspectCRLIssuers{SPKIHash: hex.EncodeToString(is.SPKIHash[:]), Revoked: is.Count,
				ThisUpdate: is.ThisUpdate.UTC().Format(time.RFC3339)}
			if !is.NextUpdate.IsZero() {
				ci.NextUpdate = is.NextUpdate.UTC().Format(time.RFC3339)
			}
			r.CRLSet.Issuers = append(r.CRLSet.Issuers, ci)
		}
		return true, nil
	case len(bytes.TrimSpace(data)) > 0 && bytes.TrimSpace(data)[0] == '{':
		m, err := manifest.Parse(data)
		if err != nil {
			return true, err
		}
		r.Format = "manifest"
		r.Manifest = &inspectManifest{GeneratedAt: m.Time().UTC().Format(time.RFC3339), Comment: m.Comment, Files: len(m.Files)}
		for _, f := range m.Files {
			r.Manifest.Bytes += f.Size
		}
		return true, nil
	}
	return false, nil
}

func (r *inspectReport) printMore(w io.Writer) {
	switch r.Format {
	case "index":
		fmt.Fprintf(w, "%s: index.bin (upkiidx%d)\n", r.File, r.Version)
		fmt.Fprintf(w, "  size:        %d bytes\n", r.Size)
		fmt.Fprintf(w, "  filters:     %d\n", len(r.Index.Filenames))
		for _, n := range r.Index.Filenames {
			fmt.Fprintf(w, "    %s\n", n)
		}
		fmt.Fprintf(w, "  coverage:    %d entries\n", len(r.Index.Logs))
		for _, l := range r.Index.Logs {
			fmt.Fprintf(w, "    %s  %s .. %s\n", l.LogID, l.From, l.To)
		}
	case "crlset":
		fmt.Fprintf(w, "%s: crl set\n", r.File)
		fmt.Fprintf(w, "  size:        %d bytes\n", r.Size)
		fmt.Fprintf(w, "  generated:   %s\n", r.CRLSet.GeneratedAt)
		fmt.Fprintf(w, "  issuers:     %d, %d revoked serials\n", *r.Issuers, r.CRLSet.Entries)
		for _, is := range r.CRLSet.Issuers {
			fmt.Fprintf(w, "    %s  %d revoked, this update %s\n", is.SPKIHash, is.Revoked, is.ThisUpdate)
		}
	case "manifest":
		fmt.Fprintf(w, "%s: manifest\n", r.File)
		fmt.Fprintf(w, "  generated:   %s\n", r.Manifest.GeneratedAt)
		fmt.Fprintf(w, "  files:       %d (%d bytes)\n", r.Manifest.Files, r.Manifest.Bytes)
		if r.Manifest.Comment != "" {
			fmt.Fprintf(w, "  comment:     %s\n", r.Manifest.Comment)
		}
	}
}
