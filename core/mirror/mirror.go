// Package mirror is `revocheck mirror mozilla`: it pulls Mozilla's CRLite
// data from Remote Settings and writes a tree that `revocheck fetch` and
// upki clients sync from (serve it with `revocheck serve` or any static
// web server). Layout (docs/SYNC.md):
//
//	<out>/manifest.json              upki manifest ("files"): full filter, then deltas
//	<out>/<attachment filename>      the filters, named as Mozilla names them
//	<out>/intermediates/manifest.json
//	<out>/intermediates/XX.pem       CA intermediates bucketed by the first byte
//	                                 (hex) of SHA-256(DER), as upki's mirror does
//	<out>/ctlogs/manifest.json       the CT log list (ct-logs collection, core/ctlog)
//	<out>/ctlogs/ctlogs.json
//	<out>/.cache/                    attachment cache (never served)
//
// Files go in before the manifest that lists them (temporary file, fsync,
// rename; manifest last). Files that leave the manifest are removed one run
// later, so a client holding the previous manifest can still finish.
//
// The CRL compiler (`revocheck mirror crl`, core/crlcompile) adds
// <out>/crlsets/ to the same tree.
package mirror

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/revocheck/revocheck/core/httpget"
	"github.com/revocheck/revocheck/core/manifest"
)

// Mozilla's production Remote Settings.
const DefaultBaseURL = "https://firefox.settings.services.mozilla.com/v1"

// Options configures one Mirror run.
type Options struct {
	BaseURL        string // Remote Settings base, ".../v1"
	AttachmentsURL string // "": ask the server (GET <base>/ capabilities)
	OutDir         string
	Channel        string // cert-revocations channel; "" means "default"
	Intermediates  bool   // also mirror the intermediates collection
	NoCTLogs       bool   // do not mirror the ct-logs collection (CT log list)
	Comment        string
	Client         *httpget.Client // nil: httpget.NewClient()
	Log            io.Writer       // progress lines; nil: discard
	Now            func() time.Time
	Workers        int // parallel attachment downloads (intermediates)
	// FiltersKey writes the manifests' list under "filters" instead of
	// "files", for upki releases that read only that key (upki's public
	// mirror serves its root manifest that way too).
	FiltersKey bool
}

// Result summarizes a run.
type Result struct {
	Filters       []string // file names, in manifest order
	Downloaded    int      // filter files fetched (others were already present)
	Intermediates int      // certificates mirrored
	Buckets       int
	CTLogs        int  // logs in the CT log list written (0: none, see CTLogsAbsent)
	CTLogsAbsent  bool // the server has no ct-logs collection
}

const (
	maxServerInfo = 1 << 20
	maxRecordList = 256 << 20
	collections   = "/buckets/security-state/collections/"
	stateName     = ".mirror-state.json"
)

// Mirror runs one mirror pass.
func Mirror(ctx context.Context, o Options) (*Result, error) {
	if o.Client == nil {
		o.Client = httpget.NewClient()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Channel == "" {
		o.Channel = "default"
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	base := strings.TrimSuffix(o.BaseURL, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, &httpget.Error{Err: fmt.Errorf("mirror: base url %q is not http(s)", o.BaseURL)}
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
	}
	att := o.AttachmentsURL
	if att == "" {
		var err error
		if att, err = attachmentsBase(ctx, o.Client, base); err != nil {
			return nil, err
		}
	}
	if !strings.HasSuffix(att, "/") {
		att += "/"
	}
	records, err := getRecords(ctx, o.Client, base+collections+"cert-revocations/records")
	if err != nil {
		return nil, err
	}
	chain, err := Chain(records, o.Channel)
	if err != nil {
		return nil, &httpget.Error{Err: err}
	}
	res := &Result{}
	m := &manifest.Manifest{GeneratedAt: o.Now().Unix(), Comment: o.Comment}
	for _, r := range chain {
		a := r.Attachment
		got, err := install(ctx, o.Client, o.OutDir, a.Filename, att+a.Location, a.Size, a.Hash)
		if err != nil {
			return nil, err
		}
		if got {
			res.Downloaded++
			fmt.Fprintf(o.Log, "mirror: %s (%d bytes)\n", a.Filename, a.Size)
		}
		m.Files = append(m.Files, manifest.File{Filename: a.Filename, Size: a.Size, Hash: a.Hash})
		res.Filters = append(res.Filters, a.Filename)
	}
	if err := publish(o.OutDir, m, []string{".filter", ".delta", ".stash"}, o.FiltersKey); err != nil {
		return nil, err
	}
	if !o.NoCTLogs {
		if err := mirrorCTLogs(ctx, &o, base, res); err != nil {
			return nil, err
		}
	}
	if o.Intermediates {
		n, b, err := mirrorIntermediates(ctx, &o, base, att)
		if err != nil {
			return nil, err
		}
		res.Intermediates, res.Buckets = n, b
	}
	return res, nil
}

// attachmentsBase asks the server where attachments live.
func attachmentsBase(ctx context.Context, c *httpget.Client, base string) (string, error) {
	r, err := c.GetSmall(ctx, base+"/", nil, maxServerInfo, false)
	if err != nil {
		return "", err
	}
	var info struct {
		Capabilities struct {
			Attachments struct {
				BaseURL string `json:"base_url"`
			} `json:"attachments"`
		} `json:"capabilities"`
	}
	if err := json.Unmarshal(r.Body, &info); err != nil {
		return "", &httpget.Error{Err: fmt.Errorf("mirror: server info: %v", err)}
	}
	u := info.Capabilities.Attachments.BaseURL
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return "", &httpget.Error{Err: fmt.Errorf("mirror: server info: attachments base_url %q is not http(s)", u)}
	}
	return u, nil
}

func getRecords(ctx context.Context, c *httpget.Client, url string) ([]Record, error) {
	r, err := c.GetSmall(ctx, url, nil, maxRecordList, false)
	if err != nil {
		return nil, err
	}
	recs, err := ParseRecords(r.Body)
	if err != nil {
		return nil, &httpget.Error{Err: fmt.Errorf("%s: %w", url, err)}
	}
	return recs, nil
}

// install makes dir/name hold the verified bytes of url. It reports whether
// it downloaded (false: the file was already there with the right hash).
func install(ctx context.Context, c *httpget.Client, dir, name, url string, size int64, hash string) (bool, error) {
	var want [32]byte
	if _, err := hex.Decode(want[:], []byte(hash)); err != nil {
		return false, &httpget.Error{Err: fmt.Errorf("mirror: %s: bad hash", name)}
	}
	path := filepath.Join(dir, name)
	if fi, err := os.Stat(path); err == nil && fi.Size() == size {
		if sum, err := httpget.FileSHA256(path); err == nil && sum == want {
			return false, nil
		}
	}
	tmp, err := os.CreateTemp(dir, ".mirror-*.tmp")
	if err != nil {
		return false, &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	defer tmp.Close()
	reset := func() error {
		if err := tmp.Truncate(0); err != nil {
			return err
		}
		_, err := tmp.Seek(0, io.SeekStart)
		return err
	}
	if err := c.Download(ctx, url, size, want, tmp, reset); err != nil {
		return false, fmt.Errorf("mirror: %s: %w", name, err)
	}
	if err := finish(tmp, path); err != nil {
		return false, &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
	}
	return true, nil
}

// finish makes a written temporary file durable and gives it its name.
func finish(tmp *os.File, path string) error {
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func writeAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, ".mirror-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := finish(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// publish replaces dir/manifest.json with m (files already in place), then
// removes the files that neither m nor the previous manifest lists, among
// those a former run published (remembered in dir/.mirror-state.json) or
// carrying one of exts. Keeping the previous generation's files one more run
// lets a client that fetched the old manifest finish its sync.
func publish(dir string, m *manifest.Manifest, exts []string, filtersKey bool) error {
	data, err := m.Marshal()
	if err != nil {
		return &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
	}
	if filtersKey {
		data, err = json.MarshalIndent(struct {
			GeneratedAt int64           `json:"generated_at"`
			Comment     string          `json:"comment"`
			Filters     []manifest.File `json:"filters"`
		}{m.GeneratedAt, m.Comment, m.Files}, "", "  ")
		if err != nil {
			return &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
		}
		data = append(data, '\n')
	}
	keep := map[string]bool{}
	for _, f := range m.Files {
		keep[f.Filename] = true
	}
	var prevFiles []string
	if old, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err == nil {
		if om, err := manifest.Parse(old); err == nil {
			for _, f := range om.Files {
				prevFiles = append(prevFiles, f.Filename)
				keep[f.Filename] = true
			}
		}
	}
	if err := syncDir(dir); err != nil {
		return &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
	}
	if err := writeAtomic(dir, "manifest.json", data); err != nil {
		return &httpget.Error{Err: fmt.Errorf("mirror: writing manifest: %w", err)}
	}
	var st struct {
		Published []string `json:"published"`
	}
	if raw, err := os.ReadFile(filepath.Join(dir, stateName)); err == nil {
		json.Unmarshal(raw, &st)
	}
	candidates := map[string]bool{}
	for _, n := range st.Published {
		candidates[n] = true
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(n, ".mirror-") && strings.HasSuffix(n, ".tmp") {
			candidates[n] = true
		}
		for _, x := range exts {
			if strings.HasSuffix(n, x) {
				candidates[n] = true
			}
		}
	}
	for n := range candidates {
		if keep[n] || n == "manifest.json" || manifest.ValidateName(n) != nil && !strings.HasPrefix(n, ".mirror-") {
			continue
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
		}
	}
	published := slices.Sorted(func(yield func(string) bool) {
		for n := range keep {
			if !yield(n) {
				return
			}
		}
	})
	st.Published = append(published[:0:0], published...)
	raw, _ := json.Marshal(st)
	if err := writeAtomic(dir, stateName, raw); err != nil {
		return &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
	}
	return nil
}
