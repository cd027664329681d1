// Package serve is the static HTTP server behind `revocheck serve` for a mirror tree
// (manifest.json, filters, crlsets/, intermediates/) with the conditional
// and range requests that `revocheck fetch` and upki use.
//
// Files are opened through an os.Root, so no request, symlink or ".."
// resolves outside the tree. Names starting with '.' (temporary files,
// caches) are never served, and there are no directory listings.
package serve

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net/http"
	"os"
	"path"
	"strings"
	"syscall" // only the *Stat_t that os.FileInfo.Sys returns: a standard library type
	"time"
)

// Handler serves the tree at dir. It keeps dir open: the tree may be
// replaced file by file underneath (as the mirror does) but not moved.
type Handler struct {
	root *os.Root
	// Log, when set, receives one line per request.
	Log *log.Logger
}

// New opens dir for serving.
func New(dir string) (*Handler, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("serve: %s is not a directory", dir)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return &Handler{root: r}, nil
}

// Close releases the tree.
func (h *Handler) Close() error { return h.root.Close() }

// ServeHTTP answers GET and HEAD for regular files of the tree.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status := h.serve(w, r)
	if h.Log != nil {
		h.Log.Printf("%s %s %q %d", r.RemoteAddr, r.Method, r.URL.Path, status)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return http.StatusMethodNotAllowed
	}
	name, ok := cleanName(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	f, err := h.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || strings.Contains(err.Error(), "escapes") {
			http.NotFound(w, r)
			return http.StatusNotFound
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		// Directories included: no listings.
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	hd := w.Header()
	// Strong validator in nginx's style (mtime and size) plus the inode: a
	// file replaced by rename gets a new one even within the same second.
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	hd.Set("ETag", fmt.Sprintf(`"%x-%x-%x"`, fi.ModTime().UnixNano(), fi.Size(), ino))
	hd.Set("Content-Type", contentType(name))
	hd.Set("X-Content-Type-Options", "nosniff")
	if path.Base(name) == "manifest.json" {
		// Clients must revalidate: the manifest is what changes.
		hd.Set("Cache-Control", "no-cache")
	} else {
		hd.Set("Cache-Control", "public, max-age=3600")
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	http.ServeContent(rec, r, name, fi.ModTime(), f)
	return rec.status
}

// cleanName maps a URL path to a name inside the tree, refusing anything
// that is not a plain relative path of non-dot components.
func cleanName(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return "", false
	}
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "", false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || strings.HasPrefix(seg, ".") {
			return "", false
		}
	}
	return p, true
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".json"):
		return "application/json"
	case strings.HasSuffix(name, ".pem"):
		return "application/x-pem-file"
	}
	return "application/octet-stream"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Server returns an http.Server for h with conservative timeouts.
func Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}
