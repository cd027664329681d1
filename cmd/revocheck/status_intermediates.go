package main

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/intermediates"
)

// statusIntermediates is the preloaded intermediates set as readers see it.
type statusIntermediates struct {
	Complete     bool       `json:"complete"` // intermediates.complete
	Present      bool       `json:"present"`  // an index readers can use
	Certificates int        `json:"certificates"`
	IndexBytes   int        `json:"index_bytes"`
	GeneratedAt  *time.Time `json:"generated_at,omitempty"`
	AgeSeconds   int64      `json:"age_seconds,omitempty"`
	IndexCurrent bool       `json:"index_current"` // built from the manifest on disk
	Error        string     `json:"error,omitempty"`
}

func inspectIntermediates(cfg *config.Config) statusIntermediates {
	dir := filepath.Join(cfg.CacheDir, intermediates.Dir)
	r := statusIntermediates{Complete: cfg.IntermediatesComplete}
	s := intermediates.NewSet(dir)
	defer s.Close()
	info, ok, err := s.Info()
	if err != nil {
		r.Error = err.Error()
	}
	if !ok {
		return r
	}
	r.Present, r.Certificates, r.IndexBytes = true, info.Count, info.Size
	r.IndexCurrent = intermediates.IndexCurrent(dir)
	if t := info.Meta.GeneratedAt; t > 0 {
		g := time.Unix(t, 0).UTC()
		r.GeneratedAt, r.AgeSeconds = &g, int64(time.Since(g)/time.Second)
	}
	return r
}

func (r statusIntermediates) print(w io.Writer) {
	mode := "chain completion on"
	if !r.Complete {
		mode = "chain completion off (intermediates.complete = false)"
	}
	switch {
	case r.Error != "":
		fmt.Fprintf(w, "intermediates: PROBLEM: %s; no chain completion\n", r.Error)
	case !r.Present:
		fmt.Fprintf(w, "intermediates: none synced (revocheck fetch --intermediates, or revocheck mirror intermediates); %s when there are\n", mode)
	default:
		age := ""
		if r.GeneratedAt != nil {
			age = fmt.Sprintf(", generated %s (%s ago)", r.GeneratedAt.Format(time.RFC3339), time.Duration(r.AgeSeconds)*time.Second)
		}
		fmt.Fprintf(w, "intermediates: %d CA certificate(s)%s, index %d bytes; %s\n", r.Certificates, age, r.IndexBytes, mode)
		if !r.IndexCurrent {
			fmt.Fprintln(w, "               the index predates the set's manifest: the next revocheck fetch rebuilds it")
		}
	}
}
