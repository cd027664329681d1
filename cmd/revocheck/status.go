package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/revocheck/revocheck/core/checkd"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/crlset"
	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/core/fetch"
	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"
	"github.com/revocheck/revocheck/core/mapped"
	"github.com/revocheck/revocheck/core/outcome"
)

const statusUsage = `[--json] [flags]

Shows where the cache is, which files it holds, the data's age and coverage
(CT logs, time ranges, enrolled issuers), whether it is stale under the
policy, and which adapters are installed and active on this machine.`

type statusFilter struct {
	File    string `json:"file"`
	Version int    `json:"version"`
	Size    int64  `json:"size"`
	Issuers int    `json:"issuers"`
	Error   string `json:"error,omitempty"`
}

type statusLog struct {
	LogID string    `json:"log_id"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

type statusReport struct {
	// Warning, when set, is printed first: the machine has no usable
	// revocation data (never fetched, fetches failing, stale).
	Warning        string            `json:"warning,omitempty"`
	CacheDir       string            `json:"cache_dir"`
	CacheDirSource string            `json:"cache_dir_source"`
	GeneratedAt    *time.Time        `json:"generated_at,omitempty"`
	AgeSeconds     int64             `json:"age_seconds,omitempty"`
	MaxAgeSeconds  int64             `json:"max_age_seconds"`
	Stale          bool              `json:"stale"`
	Usable         bool              `json:"usable"`
	Problem        string            `json:"problem,omitempty"`
	Filters        []statusFilter    `json:"filters"`
	Logs           []statusLog       `json:"coverage"`
	Issuers        int               `json:"enrolled_issuers"`
	CRLSetIssuers  int               `json:"crlset_issuers"`
	CRLSetEntries  uint64            `json:"crlset_entries"`
	Policy         map[string]string `json:"policy"`
	CTLogs         string            `json:"ct_logs"` // the CT log list policy.ct uses, in words
	Adapters       []adapterStatus   `json:"adapters"`
	Daemon         daemonStatus      `json:"daemon"`

	// Names under several CA keys: not enforced through NSS (crlset_shared.go).
	CRLSetShared   []sharedIssuerName `json:"crlset_shared_names"`
	ConfigProblems []string           `json:"config_problems,omitempty"` // file:line: what could not be set
}

func cmdStatus(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status", statusUsage, stderr)
	var cf configFlags
	cf.register(fs)
	cf.showsProblems = true
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	r := statusReport{CacheDir: cfg.CacheDir, MaxAgeSeconds: int64(cfg.Policy.MaxAge / time.Second),
		Filters: []statusFilter{}, Logs: []statusLog{}, Policy: map[string]string{}}
	for _, e := range cfg.Effective() {
		if e.Key == "cache-dir" {
			r.CacheDirSource = e.Source
		}
	}
	for _, o := range outcome.All() {
		if o == outcome.CTNoncompliant {
			r.Policy["ct"] = cfg.Policy.CT.String() // off, report, enforce
			continue
		}
		r.Policy[o.String()] = cfg.Policy.Action(o).String()
	}
	r.CTLogs = ctLogsState(cfg.CacheDir)
	r.inspectCache(cfg.CacheDir, cfg.Policy.MaxAge)
	st := crlset.OpenStore(filepath.Join(cfg.CacheDir, crlset.Dir)).Status()
	r.CRLSetIssuers, r.CRLSetEntries = len(st.Issuers), st.Entries
	r.CRLSetShared = sharedIssuerNames(st.Issuers)
	r.Adapters = detectAdapters()
	r.Daemon = probeDaemon()
	r.Warning = dataWarning(cfg)
	r.ConfigProblems = configProblemStrings(cfg)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printConfigProblems(stdout, cfg, "")
	r.print(stdout)
	return nil
}

func (r *statusReport) inspectCache(dir string, maxAge time.Duration) {
	if m, err := readManifest(filepath.Join(dir, "manifest.json")); err == nil {
		t := m.Time().UTC()
		r.GeneratedAt = &t
		r.AgeSeconds = int64(time.Since(t) / time.Second)
		r.Stale = maxAge > 0 && time.Since(t) > maxAge
	}
	// Through core/mapped, as the checkers read: a FIFO or /dev/zero in
	// the cache is an error at once, never a hang.
	data, _, err := mapped.ReadFile(filepath.Join(dir, "index.bin"), mapped.MaxSize)
	if err != nil {
		r.Problem = fmt.Sprintf("no usable cache: %v (run `revocheck fetch`)", err)
		return
	}
	ix, err := index.Parse(data)
	if err != nil {
		r.Problem = err.Error()
		return
	}
	r.Usable = true
	issuers := 0
	for _, name := range ix.Filenames() {
		sf := statusFilter{File: name}
		b, _, err := mapped.ReadFile(filepath.Join(dir, name), mapped.MaxSize)
		if err == nil {
			sf.Size = int64(len(b))
			var f *clubcard.Filter
			if f, err = clubcard.Parse(b); err == nil {
				sf.Version, sf.Issuers = f.Version(), f.NumIssuers()
				issuers = max(issuers, sf.Issuers)
			}
		}
		if err != nil {
			sf.Error = err.Error()
			r.Usable = false
			r.Problem = fmt.Sprintf("%s: %v", name, err)
		}
		r.Filters = append(r.Filters, sf)
	}
	// The full filter enrols every issuer; deltas repeat a subset, so the
	// largest count is the number of enrolled issuers.
	r.Issuers = issuers
	var entries []index.Entry
	for l := 0; l < ix.NumLogs(); l++ {
		var id [32]byte
		id, entries = ix.Log(l, entries[:0])
		if len(entries) == 0 {
			continue
		}
		lo, hi := entries[0].Min, entries[0].Max
		for _, e := range entries {
			lo, hi = min(lo, e.Min), max(hi, e.Max)
		}
		r.Logs = append(r.Logs, statusLog{LogID: hex.EncodeToString(id[:]),
			From: time.UnixMilli(int64(lo)).UTC(), To: time.UnixMilli(int64(hi)).UTC()})
	}
	sort.Slice(r.Logs, func(i, j int) bool { return r.Logs[i].To.After(r.Logs[j].To) })
}

func readManifest(path string) (*manifest.Manifest, error) {
	b, _, err := mapped.ReadFile(path, mapped.MaxSize)
	if err != nil {
		return nil, err
	}
	return manifest.Parse(b)
}

func (r *statusReport) print(w io.Writer) {
	if r.Warning != "" {
		fmt.Fprintf(w, "WARNING:  %s\n", r.Warning)
	}
	fmt.Fprintf(w, "cache:    %s (from %s)\n", r.CacheDir, r.CacheDirSource)
	if r.Problem != "" {
		fmt.Fprintf(w, "          PROBLEM: %s\n", r.Problem)
	}
	if r.GeneratedAt != nil {
		state := "fresh"
		if r.Stale {
			state = "STALE"
		}
		fmt.Fprintf(w, "data:     generated %s (%s ago), %s under max-age %s\n", r.GeneratedAt.Format(time.RFC3339),
			(time.Duration(r.AgeSeconds) * time.Second).String(), state, (time.Duration(r.MaxAgeSeconds) * time.Second).String())
	}
	var total int64
	for _, f := range r.Filters {
		total += f.Size
	}
	fmt.Fprintf(w, "filters:  %d file(s), %.1f MB, %d enrolled issuer(s)\n", len(r.Filters), float64(total)/1e6, r.Issuers)
	for i, f := range r.Filters {
		if i == 5 && len(r.Filters) > 6 {
			fmt.Fprintf(w, "          ... %d more\n", len(r.Filters)-5)
			break
		}
		if f.Error != "" {
			fmt.Fprintf(w, "          %-32s ERROR %s\n", f.File, f.Error)
			continue
		}
		fmt.Fprintf(w, "          %-32s v%d %9d bytes %6d issuers\n", f.File, f.Version, f.Size, f.Issuers)
	}
	fmt.Fprintf(w, "coverage: %d CT log(s)\n", len(r.Logs))
	for i, l := range r.Logs {
		if i == 4 && len(r.Logs) > 5 {
			fmt.Fprintf(w, "          ... %d more\n", len(r.Logs)-4)
			break
		}
		fmt.Fprintf(w, "          log %s…  %s → %s\n", l.LogID[:16], l.From.Format("2006-01-02 15:04"), l.To.Format("2006-01-02 15:04"))
	}
	fmt.Fprintf(w, "crl sets: %d issuer(s), %d revoked serial(s)\n", r.CRLSetIssuers, r.CRLSetEntries)
	printSharedIssuerNames(w, r.CRLSetShared)
	fmt.Fprintf(w, "ct logs:  %s\n", r.CTLogs)
	fmt.Fprintf(w, "policy:  ")
	for _, o := range outcome.All() {
		if o == outcome.CTNoncompliant {
			fmt.Fprintf(w, " ct=%s", r.Policy["ct"])
			continue
		}
		fmt.Fprintf(w, " %s=%s", o, r.Policy[o.String()])
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "daemon:   %s: %s\n", r.Daemon.Socket, r.Daemon.State)
	fmt.Fprintln(w, "adapters:")
	for _, a := range r.Adapters {
		state := "inactive"
		if a.Active {
			state = "ACTIVE"
		}
		fmt.Fprintf(w, "  %-8s %-8s", a.Stack, state)
		for i, e := range a.Evidence {
			if i > 0 {
				fmt.Fprintf(w, "\n  %-8s %-8s", "", "")
			}
			fmt.Fprintf(w, " %s", e)
		}
		fmt.Fprintln(w)
		printProtection(w, a)
	}
}

// printProtection says which programs of a stack are protected, and which
// are not although they use it.
func printProtection(w io.Writer, a adapterStatus) {
	for _, p := range a.Protects {
		fmt.Fprintf(w, "  %-8s %-8s protects: %s\n", "", "", p)
	}
	for _, p := range a.NotProtected {
		fmt.Fprintf(w, "  %-8s %-8s NOT protected: %s\n", "", "", p)
	}
}

// daemonStatus is whether `revocheck daemon` answers where the adapters
// look for it ($REVOCHECK_SOCKET, else the default socket).
type daemonStatus struct {
	Socket    string `json:"socket"`
	Answering bool   `json:"answering"`
	State     string `json:"state"`
}

func probeDaemon() daemonStatus {
	d := daemonStatus{Socket: DefaultSocket}
	if s, ok := os.LookupEnv("REVOCHECK_SOCKET"); ok {
		d.Socket = s
	}
	if d.Socket == "" || d.Socket == "none" {
		d.State = "disabled ($REVOCHECK_SOCKET); adapters check in-process"
		return d
	}
	if _, err := os.Stat(d.Socket); err != nil {
		d.State = "not running; adapters check in-process (systemctl enable --now revocheck-checkd.socket)"
		return d
	}
	if err := checkd.TrustedDir(filepath.Dir(d.Socket)); err != nil {
		d.State = "IGNORED by the adapters: " + err.Error()
		return d
	}
	if err := checkd.Ping(d.Socket, time.Second); err != nil {
		d.State = "NOT ANSWERING (" + err.Error() + "); adapters check in-process"
		return d
	}
	d.Answering, d.State = true, "answering; adapters ask it before loading librevocheck.so"
	return d
}

// dataWarning says, in one line, that revocation checking is not fed:
// never fetched, stale, or fetches failing for longer than max-age, and
// what the policy then does with every check.
func dataWarning(cfg *config.Config) string {
	h := fetch.CheckHealth(cfg.CacheDir, cfg.Policy.MaxAge)
	p := h.Problem()
	if p == "" {
		return ""
	}
	o := outcome.NoData
	if h.Stale() {
		o = outcome.Stale
	} else if !h.Absent() {
		return p + " (check `journalctl -u revocheck-fetch`)"
	}
	switch {
	case cfg.Policy.Action(o).String() != "allow":
	case o == outcome.NoData:
		p += "; policy no_data = allow, so certificates are NOT checked for revocation"
	default:
		p += "; policy stale = allow, so only revocations already in the old data are refused"
	}
	return p + " (run `revocheck fetch`, or see `journalctl -u revocheck-fetch`)"
}

// ctLogsState describes the cache's CT log list (core/ctlog).
func ctLogsState(dataDir string) string {
	st := ctlog.OpenStore(dataDir)
	defer st.Close()
	l, _ := st.Current()
	if l == nil {
		if err := st.Err(); err != nil {
			return "unreadable: " + err.Error()
		}
		return "none (policy.ct judges nothing; revocheck mirror ctlogs or a mirror with ctlogs/ provides one)"
	}
	at := "undated"
	if l.GeneratedAt > 0 {
		at = time.Unix(l.GeneratedAt, 0).UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%d logs of %d operators, %s, from %s", len(l.Logs), l.Operators(), at, l.Source)
}
