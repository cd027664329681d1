// Package fetch keeps a revocation cache directory in step with a mirror
// that speaks the upki protocol: GET <url>manifest.json, then every file it
// lists under <url><filename> (upki's default url is
// https://upki.rustls.dev/revocation/). It also syncs the optional CRL-set tree
// (<url>/crlsets/manifest.json into <cache>/crlsets/), which lives apart so
// that upki clients never see non-clubcard files in the main manifest, the
// optional CT log list (<url>/ctlogs/, core/ctlog), and on request the CA
// intermediates (<url>/intermediates/).
//
// # Guarantees
//
//   - Only what changed is downloaded: a file whose local bytes already
//     have the manifest's SHA-256 is kept. The manifest request is
//     conditional (If-None-Match / If-Modified-Since from the last sync), so
//     a no-op sync costs one small response and no filter bytes.
//   - Every file is downloaded to a temporary file in the cache directory,
//     checked against the manifest's size and SHA-256, fsynced and renamed
//     into place. Nothing unverified ever carries a final name.
//   - The C2SP cache atomicity invariants hold at every instant: filters
//     are in place (and the directory fsynced) before the index.bin that
//     names them; index.bin and manifest.json are replaced by rename, the
//     manifest last; files that leave the manifest are removed only after
//     the new index.bin is visible. A crash or kill -9 at any moment leaves
//     a cache whose index.bin names only present, verified files: the old
//     generation or the new one. A file whose name is reused with different
//     bytes (Mozilla's names are dated, so in practice never) is first
//     dropped from a transitional index, then replaced.
//   - Bounded everything: the manifest (1 MiB), every file (its manifest
//     size exactly: a longer body is cut off), stalls (no byte for 30 s),
//     retries (4 attempts, exponential backoff with jitter).
//   - An exclusive flock on <cache>/.lock: two fetches never interleave.
//   - A new generation that looks wrong is refused and the previous one
//     kept (httpget.RefusedError; `revocheck fetch` exits 65): a manifest listing no files where the
//     cache has some, a manifest older than the cache's (a rollback), a
//     redirect to another host, a listed file whose hash matches but that
//     does not parse. Options.Force accepts the first two.
//   - A mirror with neither manifest.json nor crlsets/manifest.json is an
//     error (a wrong url), never a silent "nothing to do"; one with CRL
//     sets only is fine, and the local clubcard generation is then kept.
//
// Errors are typed (core/httpget: failed, refused, temporary); the command
// line (cmd/revocheck/fetch.go) turns them into exit codes.
package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/revocheck/revocheck/core/httpget"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/revocheck/revocheck/core/crlset"
	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/mapped"
)

// DefaultURL is upki's public mirror, used when neither --url nor the
// config key [revocation] fetch-url says otherwise.
const DefaultURL = "https://upki.rustls.dev/revocation/"

// DefaultIntermediatesURL is where upki's public mirror keeps the CA
// intermediates: beside revocation/, not below it (upki's [intermediates]
// fetch-url).
const DefaultIntermediatesURL = "https://upki.rustls.dev/intermediates/"

// Options configures one Sync.
type Options struct {
	URL      string // mirror base URL; "manifest.json" is resolved against it
	CacheDir string
	DryRun   bool            // fetch the manifest, print the plan, change nothing
	Client   *httpget.Client // nil: httpget.NewClient()
	Out      io.Writer       // the plan (dry run) and the summary; nil: discard
	LockWait time.Duration   // how long to wait for another fetch's lock
	// SkipCRLSets disables the crlsets/ tree.
	SkipCRLSets bool
	// Intermediates also syncs the CA intermediates into
	// <cache>/intermediates/, from IntermediatesURL or else
	// <url>intermediates/.
	Intermediates    bool
	IntermediatesURL string
	// OnPlan, when set, learns how many bytes each tree will download.
	OnPlan func(bytes int64)
	// Force installs a manifest that lists no files or is older than the
	// cache's (refused otherwise).
	Force bool
	// AllowRedirectHosts are hosts a redirect may lead to besides the
	// mirror's own (used when Client.AllowRedirect is nil).
	AllowRedirectHosts []string
	// hook, when set, is called at named points of the update (tests use
	// it to stop the process at chosen moments).
	hook func(point string)
}

// TreeResult says what one tree's sync did.
type TreeResult struct {
	Tree        string // "" for the clubcard tree, "crlsets"
	Absent      bool   // optional tree: the server has none (404, 410)
	Skipped     bool   // optional tree: 403; a local copy was kept
	NotModified bool   // the manifest answered 304
	Unchanged   bool   // nothing on disk had to change
	Downloaded  int
	Bytes       int64 // bytes of files downloaded (or to download, dry run)
	Kept        int
	Removed     int
}

// Result is the outcome of a Sync.
type Result struct {
	Trees    []TreeResult
	Received int64 // body bytes received over the network, manifests included
}

// tree describes one synced directory.
type tree struct {
	key       string   // state key and name in messages: "" or "crlsets"
	sub       string   // subdirectory of the URL and of the cache
	rule      nameRule // file-name rule of its manifest
	index     bool     // maintain index.bin
	optional  bool     // 404 means "none"
	optIn     bool     // synced only with Options.Intermediates
	strayExts []string // unlisted files with these suffixes are removed
}

var trees = []tree{
	{key: "", rule: validateName, index: true, strayExts: []string{".filter", ".delta"}},
	{key: "crlsets", sub: crlset.Dir, rule: func(n string) error {
		if err := checkName(n, 64); err != nil {
			return err
		}
		return crlset.ValidFilename(n)
	}, optional: true, strayExts: []string{".crlset"}},
	// CA intermediates (upki's XX.pem buckets), opt-in like upki's
	// [intermediates] enabled: the NSS module's name → key map reads them.
	{key: "intermediates", sub: "intermediates", rule: func(n string) error { return checkName(n, 64) },
		optional: true, optIn: true, strayExts: []string{".pem"}},
	// The CT log list policy.ct checks SCTs against (core/ctlog): one
	// file, validated before it takes its name.
	{key: "ctlogs", sub: ctlog.Dir, rule: func(n string) error {
		if n != ctlog.FileName {
			return fmt.Errorf("ctlogs/manifest.json lists %q, not %s", n, ctlog.FileName)
		}
		return nil
	}, optional: true},
}

// Sync brings opts.CacheDir in step with the mirror at opts.URL.
func Sync(ctx context.Context, opts Options) (*Result, error) {
	if opts.Client == nil {
		opts.Client = httpget.NewClient()
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	base, err := baseURL(opts.URL)
	if err != nil {
		return nil, &httpget.Error{Err: err}
	}
	if opts.Client.AllowRedirect == nil {
		opts.Client.AllowRedirect = httpget.SameOrigin(opts.AllowRedirectHosts)
	}
	if !opts.DryRun {
		if err := os.MkdirAll(opts.CacheDir, 0o755); err != nil {
			return nil, &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
		}
		unlock, err := lockCache(ctx, opts.CacheDir, opts.LockWait)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	st := loadState(opts.CacheDir)
	res := &Result{}
	for _, t := range trees {
		if t.key == "crlsets" && opts.SkipCRLSets || t.optIn && !opts.Intermediates {
			continue
		}
		tr, err := syncTree(ctx, &opts, base, t, st)
		if err != nil {
			res.Received = opts.Client.BytesReceived()
			return res, err
		}
		res.Trees = append(res.Trees, *tr)
	}
	res.Received = opts.Client.BytesReceived()
	if res.nothingServed() {
		return res, &httpget.Error{Err: fmt.Errorf("fetch: %s has no manifest.json (nor crlsets/manifest.json): not a revocation mirror; check --url / [revocation] fetch-url (upki's is %s)", base, DefaultURL)}
	}
	if !opts.DryRun {
		st.LastSuccess = time.Now().Unix()
		if err := st.save(opts.CacheDir); err != nil {
			return res, &httpget.Error{Err: fmt.Errorf("fetch: saving state: %w", err)}
		}
	}
	return res, nil
}

// nothingServed reports whether every tree synced was absent on the mirror.
func (r *Result) nothingServed() bool {
	for _, t := range r.Trees {
		if t.Tree == "intermediates" || t.Tree == "ctlogs" {
			continue // extras, never the revocation data itself
		}
		if !t.Absent {
			return false
		}
	}
	return true
}

// baseURL checks u and gives it a trailing slash, so that names resolve
// below it as upki resolves them (<url><filename>).
func baseURL(u string) (string, error) {
	if u == "" {
		return "", errors.New("fetch: no mirror url (set --url or [revocation] fetch-url)")
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return "", fmt.Errorf("fetch: url %q: only http:// and https:// are supported", u)
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u, nil
}

// step is one planned action.
type step struct {
	op   string // "download", "replace", "keep", "remove"
	file File
	name string
}

// refuse judges a new manifest against the cache's: one that would delete
// every file, or that is older (a mirror rolled back, or an attacker
// replaying an old generation to hide newer revocations), is installed
// only with Force.
func (o *Options) refuse(murl string, m, old *Manifest) error {
	if o.Force || old == nil {
		return nil
	}
	if len(m.Files) == 0 && len(old.Files) > 0 {
		return httpget.Refusedf("fetch: %s lists no files: refusing to delete the %d in the cache (previous generation kept; --force if the mirror really is empty)", murl, len(old.Files))
	}
	// A cache generation dated more than a day ahead of this clock cannot
	// be trusted as a floor: it would pin the cache (a bad clock at the
	// mirror, or a hostile one, once).
	plausible := old.GeneratedAt <= time.Now().Add(24*time.Hour).Unix()
	if m.GeneratedAt < old.GeneratedAt && plausible {
		return httpget.Refusedf("fetch: %s was generated at %s, before the cache's generation (%s): refusing a rollback (previous generation kept; --force to accept it)",
			murl, time.Unix(m.GeneratedAt, 0).UTC().Format(time.RFC3339), time.Unix(old.GeneratedAt, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

func (o *Options) at(point string) {
	if o.hook != nil {
		o.hook(point)
	}
}

func syncTree(ctx context.Context, o *Options, base string, t tree, st *state) (_ *TreeResult, err error) {
	res := &TreeResult{Tree: t.key}
	dir := o.CacheDir
	url := base
	if t.sub != "" {
		dir = filepath.Join(dir, t.sub)
		url += t.sub + "/"
	}
	if t.key == "intermediates" && o.IntermediatesURL != "" {
		if url, err = baseURL(o.IntermediatesURL); err != nil {
			return nil, &httpget.Error{Err: err}
		}
	}
	murl := url + "manifest.json"
	mpath := filepath.Join(dir, "manifest.json")

	// Conditional request only while the local manifest is the one the
	// validators describe.
	local, _ := os.ReadFile(mpath)
	prev, hasPrev := st.Trees[t.key]
	hdr := http.Header{}
	if hasPrev && prev.URL == murl && local != nil && hashHex(local) == prev.ManifestSHA256 {
		if prev.ETag != "" {
			hdr.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			hdr.Set("If-Modified-Since", prev.LastModified)
		}
	}
	// The clubcard tree may be absent too (a mirror of CRL sets only), but
	// its absence never removes local filters: a wrong url must not wipe
	// the cache. Sync fails when no tree at all is there.
	resp, err := o.Client.GetSmall(ctx, murl, hdr, MaxManifestSize, true)
	if err != nil {
		return nil, httpget.Typed(fmt.Errorf("fetch: %w", err))
	}
	if !t.optional {
		switch resp.Status {
		case http.StatusNotFound, http.StatusGone:
			res.Absent = true
			return res, nil
		case http.StatusForbidden:
			return nil, &httpget.Error{Err: fmt.Errorf("fetch: %s: http status 403", murl)}
		}
	}
	switch resp.Status {
	case http.StatusNotFound, http.StatusGone:
		res.Absent = true
		return res, removeTree(o, dir, t, st, res)
	case http.StatusForbidden:
		// Some static hosts (S3 behind a CDN) answer 403 for a missing
		// file, but it may be a real permission problem: skip the tree
		// and keep any local copy rather than drop revocation data.
		res.Absent, res.Skipped = true, true
		fmt.Fprintf(o.Out, "%s: %s answered 403: skipped, local copy kept\n", t.key, murl)
		return res, nil
	}
	raw := resp.Body
	if resp.Status == http.StatusNotModified {
		if local == nil {
			return nil, &httpget.Error{Err: fmt.Errorf("fetch: %s: 304 without a local manifest", murl)}
		}
		res.NotModified = true
		raw = local
	}
	m, err := parseManifest(raw, t.rule, t.index)
	if err != nil {
		return nil, &httpget.Error{Err: fmt.Errorf("fetch: %s: %w", murl, err)}
	}
	var old *Manifest
	if local != nil {
		old, _ = parseManifest(local, t.rule, t.index) // a damaged local manifest just lists nothing
	}
	if err := o.refuse(murl, m, old); err != nil {
		return nil, err
	}

	steps, err := plan(dir, m, old, t)
	if err != nil {
		return nil, &httpget.Error{Err: err}
	}
	var dl, rm int
	for _, s := range steps {
		switch s.op {
		case "download", "replace":
			dl++
			res.Bytes += s.file.Size
		case "keep":
			res.Kept++
		case "remove":
			rm++
		}
	}
	needIndex := t.index && !indexMatches(dir, m)
	manifestChanged := !bytes.Equal(raw, local)
	res.Unchanged = dl == 0 && rm == 0 && !needIndex && !manifestChanged

	if o.DryRun {
		printPlan(o.Out, t, url, dir, steps, res, needIndex || dl > 0 || rm > 0, manifestChanged)
		res.Downloaded = dl
		res.Removed = rm
		return res, nil
	}
	if !res.Unchanged {
		if o.OnPlan != nil {
			o.OnPlan(res.Bytes)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
		}
		// A manifest that changed only in generated_at or comment leaves
		// index.bin alone: readers keep their generation.
		rebuild := t.index && (dl > 0 || rm > 0 || needIndex)
		if err := apply(ctx, o, dir, url, t, m, old, steps, rebuild); err != nil {
			return nil, err
		}
		if manifestChanged {
			if err := writeFileAtomic(dir, "manifest.json", raw); err != nil {
				return nil, &httpget.Error{Err: fmt.Errorf("fetch: writing manifest: %w", err)}
			}
			o.at(t.key + ":manifest")
		}
		for _, s := range steps {
			if s.op == "remove" {
				if err := os.Remove(filepath.Join(dir, s.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return nil, &httpget.Error{Err: fmt.Errorf("fetch: removing %s: %w", s.name, err)}
				}
				o.at(t.key + ":removed")
			}
		}
		if rm > 0 {
			if err := syncDir(dir); err != nil {
				return nil, &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
			}
		}
		res.Downloaded = dl
		res.Removed = rm
	}
	// Remember the validators of the manifest now on disk.
	ns := treeState{URL: murl, ManifestSHA256: hashHex(raw)}
	if res.NotModified {
		ns.ETag, ns.LastModified = prev.ETag, prev.LastModified
	} else {
		ns.ETag = resp.Header.Get("ETag")
		ns.LastModified = resp.Header.Get("Last-Modified")
	}
	if ns != prev {
		st.Trees[t.key] = ns
		if err := st.save(o.CacheDir); err != nil {
			return nil, &httpget.Error{Err: fmt.Errorf("fetch: saving state: %w", err)}
		}
	}
	return res, nil
}

// plan compares the manifest with the directory: keep what already has the
// right bytes, download the rest, remove what the previous manifest listed
// (and stray filters and leftover temporary files) that the new one does not.
func plan(dir string, m, old *Manifest, t tree) ([]step, error) {
	var steps []step
	listed := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		listed[f.Filename] = true
		p := filepath.Join(dir, f.Filename)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			steps = append(steps, step{op: "download", file: f, name: f.Filename})
		case err != nil:
			return nil, fmt.Errorf("fetch: %w", err)
		case !fi.Mode().IsRegular():
			return nil, fmt.Errorf("fetch: %s exists and is not a regular file", p)
		default:
			same := false
			if fi.Size() == f.Size {
				sum, err := httpget.FileSHA256(p)
				if err != nil {
					return nil, fmt.Errorf("fetch: %w", err)
				}
				same = sum == f.sum
			}
			if same {
				steps = append(steps, step{op: "keep", file: f, name: f.Filename})
			} else {
				steps = append(steps, step{op: "replace", file: f, name: f.Filename})
			}
		}
	}
	gone := map[string]bool{}
	if old != nil {
		for _, f := range old.Files {
			if !listed[f.Filename] {
				gone[f.Filename] = true
			}
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	for _, e := range ents {
		n := e.Name()
		if listed[n] || !e.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(n, ".fetch-") && strings.HasSuffix(n, ".tmp") {
			gone[n] = true // left by an interrupted fetch
		}
		for _, ext := range t.strayExts {
			if strings.HasSuffix(n, ext) {
				gone[n] = true
			}
		}
	}
	names := make([]string, 0, len(gone))
	for n := range gone {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		steps = append(steps, step{op: "remove", name: n})
	}
	return steps, nil
}

// apply downloads and installs the files, then (clubcard tree) replaces
// index.bin. The manifest and removals are the caller's, afterwards.
func apply(ctx context.Context, o *Options, dir, url string, t tree, m, old *Manifest, steps []step, rebuild bool) (err error) {
	type pending struct {
		tmp  string
		name string
	}
	var held []pending // replacements wait for the transitional index
	var installed []string
	ok := false
	defer func() {
		for _, p := range held {
			os.Remove(p.tmp)
		}
		if ok || len(installed) == 0 || httpget.KindOf(err) == httpget.Temporary {
			return // a temporary failure resumes from what is verified
		}
		// A rejected generation leaves nothing: no index names these
		// yet (the final index comes last), so they can go.
		for _, n := range installed {
			os.Remove(filepath.Join(dir, n))
		}
		syncDir(dir)
	}()
	for _, s := range steps {
		if s.op != "download" && s.op != "replace" {
			continue
		}
		tmp, err := download(ctx, o, dir, url, s.file)
		if err != nil {
			return err
		}
		o.at(t.key + ":downloaded")
		if err := validate(t, tmp); err != nil {
			os.Remove(tmp)
			return httpget.Refusedf("fetch: %s%s: the sha-256 matches the manifest but the file does not parse: %v (previous generation kept)", url, s.name, err)
		}
		if s.op == "replace" {
			held = append(held, pending{tmp, s.name})
			continue
		}
		// A new name: no index references it yet, so it can take its
		// place at once (and survive an interrupted run).
		if err := os.Rename(tmp, filepath.Join(dir, s.name)); err != nil {
			os.Remove(tmp)
			return &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
		}
		installed = append(installed, s.name)
		o.at(t.key + ":installed")
	}
	if len(held) > 0 && t.index {
		// Drop the names about to be reused from the index first, so no
		// visible index ever pairs with bytes it was not built from.
		skip := map[string]bool{}
		for _, p := range held {
			skip[p.name] = true
		}
		var keepFiles []File
		if old != nil {
			for _, f := range old.Files {
				if !skip[f.Filename] {
					if _, err := os.Stat(filepath.Join(dir, f.Filename)); err == nil {
						keepFiles = append(keepFiles, f)
					}
				}
			}
		}
		if err := writeIndex(dir, keepFiles); err != nil {
			return err
		}
		o.at(t.key + ":transitional-index")
	}
	for len(held) > 0 {
		p := held[0]
		if err := os.Rename(p.tmp, filepath.Join(dir, p.name)); err != nil {
			return &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
		}
		held = held[1:]
	}
	// Filters durable under their names before any index names them.
	if err := syncDir(dir); err != nil {
		return &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
	}
	// From here on an index may name the new files: they stay.
	ok = true
	if rebuild {
		if err := writeIndex(dir, m.Files); err != nil {
			return err
		}
		o.at(t.key + ":index")
	}
	return nil
}

// validate parses a downloaded file of a tree whose readers parse it
// (filters, CRL sets), so that a file that would only fail in readers is
// refused before it takes a name.
func validate(t tree, path string) error {
	switch t.key {
	case "":
		_, err := fileCoverage(path)
		return err
	case "crlsets":
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = crlset.Parse(data)
		return err
	case "ctlogs":
		data, _, err := mapped.ReadFile(path, ctlog.MaxFileSize)
		if err != nil {
			return err
		}
		_, err = ctlog.Parse(data)
		return err
	}
	return nil
}

// download fetches one file into a verified, fsynced temporary file in dir
// and returns its path.
func download(ctx context.Context, o *Options, dir, url string, f File) (string, error) {
	tmp, err := os.CreateTemp(dir, ".fetch-*.tmp")
	if err != nil {
		return "", &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	reset := func() error {
		if err := tmp.Truncate(0); err != nil {
			return err
		}
		_, err := tmp.Seek(0, io.SeekStart)
		return err
	}
	if err := o.Client.Download(ctx, url+f.Filename, f.Size, f.sum, tmp, reset); err != nil {
		return "", httpget.Typed(fmt.Errorf("fetch: %s: %w", f.Filename, err))
	}
	if err := tmp.Chmod(0o644); err != nil {
		return "", &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
	}
	if err := tmp.Sync(); err != nil {
		return "", &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
	}
	if err := tmp.Close(); err != nil {
		return "", &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
	}
	ok = true
	return tmp.Name(), nil
}

// writeIndex rebuilds index.bin from the coverage of files, in manifest
// order (readers meet earlier files first), and replaces it atomically.
func writeIndex(dir string, files []File) error {
	fc := make([]index.FileCoverage, 0, len(files))
	for _, f := range files {
		cov, err := fileCoverage(filepath.Join(dir, f.Filename))
		if err != nil {
			return &httpget.Error{Err: fmt.Errorf("fetch: %s: %w", f.Filename, err)}
		}
		fc = append(fc, index.FileCoverage{Name: f.Filename, Coverage: cov})
	}
	data, err := index.Build(fc)
	if err != nil {
		return &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
	}
	if err := writeFileAtomic(dir, "index.bin", data); err != nil {
		return &httpget.Error{Err: fmt.Errorf("fetch: writing index.bin: %w", err)}
	}
	return nil
}

// indexMatches reports whether dir/index.bin parses and names exactly the
// manifest's files; otherwise it is rebuilt even when no file changed.
func indexMatches(dir string, m *Manifest) bool {
	data, err := os.ReadFile(filepath.Join(dir, "index.bin"))
	if err != nil {
		return false
	}
	ix, err := index.Parse(data)
	if err != nil {
		return false
	}
	names := slices.Clone(ix.Filenames())
	want := make([]string, 0, len(m.Files))
	for _, f := range m.Files {
		want = append(want, f.Filename)
	}
	slices.Sort(names)
	slices.Sort(want)
	// index.Build drops nothing, but a filter with empty coverage still has
	// a name, so equality of the name sets is the test.
	return slices.Equal(names, want)
}

// removeTree handles an optional tree the server no longer has: the
// manifest goes first (readers then see no sets), then the files.
func removeTree(o *Options, dir string, t tree, st *state, res *TreeResult) error {
	mpath := filepath.Join(dir, "manifest.json")
	if _, err := os.Stat(mpath); err != nil {
		return nil
	}
	old, _ := os.ReadFile(mpath)
	if o.DryRun {
		fmt.Fprintf(o.Out, "%s: the mirror has none: would remove %s\n", t.key, dir)
		return nil
	}
	if err := os.Remove(mpath); err != nil {
		return &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
	}
	if err := syncDir(dir); err != nil {
		return &httpget.Error{Err: fmt.Errorf("fetch: %w", err)}
	}
	if m, err := parseManifest(old, t.rule, t.index); err == nil {
		for _, f := range m.Files {
			if os.Remove(filepath.Join(dir, f.Filename)) == nil {
				res.Removed++
			}
		}
	}
	delete(st.Trees, t.key)
	if err := st.save(o.CacheDir); err != nil {
		return &httpget.Error{Err: fmt.Errorf("fetch: saving state: %w", err)}
	}
	return nil
}

func printPlan(w io.Writer, t tree, url, dir string, steps []step, res *TreeResult, index, manifest bool) {
	name := "clubcard tree"
	if t.key != "" {
		name = t.key + " tree"
	}
	fmt.Fprintf(w, "%s: %s -> %s\n", name, url, dir)
	var n int
	for _, s := range steps {
		switch s.op {
		case "download":
			fmt.Fprintf(w, "  download %s (%d bytes)\n", s.name, s.file.Size)
			n++
		case "replace":
			fmt.Fprintf(w, "  replace  %s (%d bytes; local copy differs)\n", s.name, s.file.Size)
			n++
		case "remove":
			fmt.Fprintf(w, "  remove   %s\n", s.name)
		}
	}
	if index && t.index {
		fmt.Fprintf(w, "  rebuild  index.bin\n")
	}
	if manifest {
		fmt.Fprintf(w, "  write    manifest.json\n")
	}
	fmt.Fprintf(w, "  %d to download (%d bytes), %d up to date\n", n, res.Bytes, res.Kept)
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
