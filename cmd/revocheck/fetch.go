package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/fetch"
	"github.com/revocheck/revocheck/core/httpget"
)

const fetchUsage = `usage: revocheck fetch [flags]

Sync the revocation cache from a mirror (upki protocol): GET <url>manifest.json,
download what changed, verify size and SHA-256 of every file, rebuild index.bin,
replace everything atomically. Also syncs <url>crlsets/ when the mirror has it
(a mirror of CRL sets only, with no manifest.json, is fine).

Exit status:
  0  up to date or updated, and the data is usable
  1  error (bad manifest, integrity failure, a redirect loop, local I/O, a mirror
     with no manifest at all), or the cache holds no data / stale data after the run
  65 refused, previous generation kept: the manifest lists no files, is older than
     the cache's (rollback), redirects to another host, or lists a file that does
     not parse (--force accepts the first two; --allow-redirect-host HOST the third)
  75 temporary failure (network, server error, another fetch running): try again
When the data is absent or stale after a failed run, a line on stderr says so.

flags:
`

// cmdFetch is `revocheck fetch`: the flags and the configuration make
// fetch.Options; the kind of error chooses the exit status (fetchExit).
func cmdFetch(args []string, stdout, stderr io.Writer) error {
	err := runFetch(args, stdout, stderr)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &exitError{code: fetchExit(err), err: fmt.Errorf("error: %w", err)}
}

// fetchExit is the exit status of a fetch (or mirror) error, chosen so
// that a systemd timer or cron can tell "try again later" from "someone
// must look at this": 75 (EX_TEMPFAIL) temporary, 65 (EX_DATAERR) new data
// refused and the previous generation kept, 1 anything else.
func fetchExit(err error) int {
	switch httpget.KindOf(err) {
	case httpget.OK:
		return 0
	case httpget.Temporary:
		return 75
	case httpget.Refused:
		return 65
	}
	return 1
}

func runFetch(args []string, stdout, stderr io.Writer) error {
	fs := newFlagsText("fetch", fetchUsage, stderr)
	var (
		cfgPath   = fs.String("config", "", "configuration file (default: $REVOCHECK_CONFIG, /etc/revocheck/config.toml, $XDG_CONFIG_HOME/revocheck/config.toml)")
		url       = fs.String("url", "", "mirror URL (default: [revocation] fetch-url, else "+fetch.DefaultURL+")")
		cacheDir  = fs.String("cache-dir", "", "data directory itself (default: $REVOCHECK_CACHE_DIR, else the config's <cache-dir>/revocation, else "+config.DefaultDataDir+")")
		dryRun    = fs.Bool("dry-run", false, "fetch the manifest, print the plan and the bytes to download, change nothing")
		lockWait  = fs.Duration("lock-wait", time.Minute, "wait this long for another fetch to finish")
		noCRLSets = fs.Bool("no-crlsets", false, "do not sync the crlsets/ tree")
		inter     = fs.Bool("intermediates", false, "also sync the CA intermediates (default: [intermediates] enabled; from [intermediates] fetch-url, else upki's for upki's url, else <url>intermediates/)")
		force     = fs.Bool("force", false, "install a manifest that lists no files or is older than the cache's (refused otherwise)")
		allowHost multiFlag
		dl        downloadFlags
	)
	dl.register(fs, 10*time.Minute, "give up on the whole sync after this long", "no progress bar and no summary")
	fs.Var(&allowHost, "allow-redirect-host", "follow redirects to this host too (repeatable; also [revocation] allow-redirect-hosts; default: the mirror's own host only)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &httpget.Error{Err: err}
	}
	if fs.NArg() > 0 {
		return &httpget.Error{Err: fmt.Errorf("fetch: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load(*cfgPath)
	if problems := (*config.Error)(nil); errors.As(err, &problems) {
		// A typo must not stop the data from being refreshed: those
		// settings keep their defaults (config.Load), said here.
		for _, p := range problems.Problems {
			fmt.Fprintf(stderr, "revocheck: warning: %s (that setting keeps its default)\n", p)
		}
	} else if err != nil {
		return &httpget.Error{Err: err}
	}
	if *cacheDir != "" {
		cfg.CacheDir = *cacheDir
	}
	if *url == "" {
		*url = cfg.FetchURL
	}
	if *url == "" {
		*url = fetch.DefaultURL
	}
	interURL := cfg.IntermediatesURL
	if interURL == "" && *url == fetch.DefaultURL {
		interURL = fetch.DefaultIntermediatesURL
	}
	if err := dl.check("fetch"); err != nil {
		return err
	}
	ctx, stop := dl.context()
	defer stop()
	c := dl.client()
	var bar *progress
	if !dl.quiet && !*dryRun && isTerminal(stderr) {
		bar = &progress{w: stderr}
		c.Progress = bar.add
	}
	out := stdout
	if dl.quiet && !*dryRun {
		out = io.Discard
	}
	if !*dryRun {
		if err := fetch.MigrateLayout(cfg.CacheDir, out); err != nil {
			fmt.Fprintf(stderr, "revocheck: %v (the fetch downloads everything instead)\n", err)
		}
	}
	res, err := fetch.Sync(ctx, fetch.Options{
		URL: *url, CacheDir: cfg.CacheDir, DryRun: *dryRun, Client: c, Out: out,
		LockWait: *lockWait, SkipCRLSets: *noCRLSets, Intermediates: *inter || cfg.IntermediatesEnabled,
		IntermediatesURL: interURL, OnPlan: bar.planFunc(),
		Force: *force, AllowRedirectHosts: append(allowHost, cfg.RedirectHosts...),
	})
	bar.done()
	if *dryRun {
		return httpget.Typed(err)
	}
	if err == nil {
		summarize(out, res)
	}
	return fetch.Judge(err, cfg.CacheDir, cfg.Policy.MaxAge, stderr)
}

func summarize(w io.Writer, res *fetch.Result) {
	for _, t := range res.Trees {
		name := "revocation data"
		if t.Tree != "" {
			name = t.Tree
		}
		switch {
		case t.Absent && t.Tree == "":
			fmt.Fprintf(w, "%s: the mirror has none (no manifest.json); local filters, if any, kept\n", name)
		case t.Absent:
			if t.Removed > 0 {
				fmt.Fprintf(w, "%s: none on the mirror; removed %d local files\n", name, t.Removed)
			}
		case t.Unchanged:
			fmt.Fprintf(w, "%s: up to date (%d files)\n", name, t.Kept)
		default:
			fmt.Fprintf(w, "%s: updated: %d downloaded (%d bytes), %d kept, %d removed\n",
				name, t.Downloaded, t.Bytes, t.Kept, t.Removed)
		}
		if t.IndexBuilt {
			fmt.Fprintf(w, "%s: index rebuilt: %d CA certificates (%d skipped), %d bytes\n", name, t.IndexCerts, t.IndexSkipped, t.IndexSize)
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	// TCGETS succeeds only on a terminal (not on /dev/null, a pipe or the
	// journal's socket).
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progress draws a one-line bar on a terminal, at most 10 times a second.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	n     int64
	total int64 // bytes the plans announced so far
	last  time.Time
	drawn bool
}

func (p *progress) plan(bytes int64) {
	p.mu.Lock()
	p.total += bytes
	p.mu.Unlock()
}

// add counts received bytes; until a plan announced what is coming (the
// manifest requests) there is nothing to draw.
func (p *progress) add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.total == 0 {
		return
	}
	p.n += n
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.draw()
	}
}

func (p *progress) draw() {
	const width = 30
	if p.total > 0 {
		done := min(p.n, p.total)
		k := int(done * width / p.total)
		bar := strings.Repeat("#", k) + strings.Repeat(" ", width-k)
		fmt.Fprintf(p.w, "\rrevocheck: fetch [%s] %3d%% %s / %s ", bar, done*100/p.total, human(done), human(p.total))
	} else {
		fmt.Fprintf(p.w, "\rrevocheck: fetch: %s received ", human(p.n))
	}
	p.drawn = true
}

func (p *progress) planFunc() func(int64) {
	if p == nil {
		return nil
	}
	return p.plan
}

func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		p.draw()
		fmt.Fprintln(p.w)
	}
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
