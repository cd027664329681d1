// Package config loads revocheck's configuration: built-in defaults, then
// /etc/revocheck/config.toml, then $XDG_CONFIG_HOME/revocheck/config.toml
// (or one explicit file from --config / $REVOCHECK_CONFIG instead of both),
// then $REVOCHECK_CACHE_DIR, then per-component overrides ("key=value;...").
// It remembers where every value came from, for `revocheck config`.
//
// upki's keys (`cache-dir`, `[revocation] fetch-url`) are accepted with
// upki's meaning, so an existing upki configuration works unchanged: in a
// config file (and for the built-in default) `cache-dir` is the parent
// directory and the revocation data lives in its `revocation/`
// subdirectory (upki's revocation_cache_dir). Everywhere else that names a
// cache — $REVOCHECK_CACHE_DIR, --cache-dir, the adapters' "cache-dir=..."
// settings — names the data directory itself. Config.CacheDir is always the
// data directory; CRL sets live in its crlsets/ subdirectory. Unknown keys
// are an error that names the key and the file.
//
// A configuration error never switches checking off: every line that can be
// read is applied, and what could not be set (a typo, an unknown key, a bad
// value, an unreadable file) keeps its previous value — the built-in default
// unless an earlier source set it. Each such problem is listed in
// Config.Problems with its file and line; Load returns the usable Config
// together with an *Error listing them, so a caller chooses between strict
// (refuse to run) and lenient (run, and say so).
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/core/policy"
)

// envCacheDirSource names $REVOCHECK_CACHE_DIR as a value's source.
const envCacheDirSource = "$REVOCHECK_CACHE_DIR"

// SystemFile is the system-wide configuration file.
const SystemFile = "/etc/revocheck/config.toml"

// DefaultCacheDir is the built-in `cache-dir`: upki's meaning, the parent
// of the data directory (DefaultDataDir).
const DefaultCacheDir = "/var/cache/revocheck"

// DataSubdir is where, below a config file's `cache-dir`, the revocation
// data lives: upki's layout (<cache-dir>/revocation/).
const DataSubdir = "revocation"

// DefaultDataDir is the revocation data directory of the built-in
// configuration.
const DefaultDataDir = DefaultCacheDir + "/" + DataSubdir

// Config is the effective configuration.
type Config struct {
	// CacheDir is the revocation data directory: manifest.json, index.bin,
	// the filters and crlsets/. From a config file it is
	// <cache-dir>/revocation; from the environment, a flag or an override
	// it is the directory named.
	CacheDir string
	FetchURL string // upki's [revocation] fetch-url
	Policy   policy.Policy

	Files    []string          // config files read, in order
	Problems []Problem         // settings that could not be set, in order
	sources  map[string]string // key → where its value came from

	// RedirectHosts are hosts besides the mirror's own that fetch may be
	// redirected to ([revocation] allow-redirect-hosts).
	RedirectHosts []string
	// upki's [intermediates] enabled and fetch-url: accepted so that an
	// upki file loads; fetch uses them for --intermediates.
	IntermediatesEnabled bool
	IntermediatesURL     string
}

// Problem is one setting a source could not set; that setting keeps the
// value it had before.
type Problem struct {
	Source string // "file:line", "file", "overrides", "--set"...
	Msg    string
}

func (p Problem) String() string { return p.Source + ": " + p.Msg }

// Error lists configuration problems. Load and ApplyOverrides return it
// alongside a Config that is still usable.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	s := "config: " + e.Problems[0].String()
	if n := len(e.Problems) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more problem(s))", n)
	}
	return s
}

// errorSince returns the problems recorded from index n on, as an *Error,
// or nil.
func (c *Config) errorSince(n int) error {
	if len(c.Problems) <= n {
		return nil
	}
	return &Error{Problems: append([]Problem(nil), c.Problems[n:]...)}
}

func (c *Config) problem(source, format string, args ...any) {
	c.Problems = append(c.Problems, Problem{Source: source, Msg: fmt.Sprintf(format, args...)})
}

// Keys lists every key revocheck understands, with its meaning.
var Keys = []struct{ Key, Help string }{
	{"cache-dir", "revocation data directory (in a config file: upki's cache-dir, the data is in its revocation/)"},
	{"max-age", "data older than this is stale (e.g. \"240h\", \"10d\", \"0\" to disable)"},
	{"policy.not-covered", "allow|deny when no data covers the certificate"},
	{"policy.not-enrolled", "allow|deny when the issuer is not in the data"},
	{"policy.no-data", "allow|deny when there is no usable cache"},
	{"policy.stale", "allow|deny when the data is older than max-age"},
	{"policy.error", "allow|deny when a check fails"},
	{"policy.ct", "off|report|enforce: check embedded SCTs against Mozilla's CT policy for certificates of CAs in the CRLite data; enforce denies a non-compliant one (outcome ct_noncompliant), report allows it and the adapters log it once"},
	{"revocation.fetch-url", "mirror URL for `revocheck fetch` (upki's key)"},
	{"revocation.allow-redirect-hosts", "hosts besides the mirror's own that `revocheck fetch` follows redirects to (space or comma separated)"},
	{"intermediates.enabled", "true: `revocheck fetch` also syncs the CA intermediates (upki's key)"},
	{"intermediates.fetch-url", "where the intermediates are (upki's key; default upki's, or <fetch-url>intermediates/ for another mirror)"},
}

// Default returns the built-in configuration.
func Default() *Config {
	c := &Config{CacheDir: DefaultDataDir, Policy: policy.Default(), sources: map[string]string{}}
	return c
}

// Load builds the effective configuration. explicit is a file named by
// --config; "" means $REVOCHECK_CONFIG, or else the default search. An
// explicit file must exist; default files may be absent.
//
// The Config is always returned and usable. The error, when not nil, is an
// *Error listing what could not be set (those settings keep their
// defaults); Config.Problems holds the same list.
func Load(explicit string) (*Config, error) { return load(explicit, os.Getenv) }

// LoadSecure is Load for a setuid or setgid process (AT_SECURE): the
// environment belongs to the caller, who must not choose the configuration
// or the cache, so only the system file and explicit are read.
func LoadSecure(explicit string) (*Config, error) {
	return load(explicit, func(string) string { return "" })
}

func load(explicit string, getenv func(string) string) (*Config, error) {
	c := Default()
	if explicit == "" {
		explicit = getenv("REVOCHECK_CONFIG")
	}
	if explicit != "" {
		c.loadFile(explicit, false)
	} else {
		files := []string{SystemFile}
		if f := UserFile(getenv); f != "" {
			files = append(files, f)
		}
		for _, f := range files {
			c.loadFile(f, true)
		}
	}
	if d := getenv("REVOCHECK_CACHE_DIR"); d != "" {
		if err := c.Set("cache-dir", d, envCacheDirSource); err != nil {
			return nil, err
		}
	}
	return c, c.errorSince(0)
}

// LoadFile applies one config file: every line it can, the others are
// recorded in c.Problems and returned as an *Error (nil when none).
func (c *Config) LoadFile(path string) error {
	n := len(c.Problems)
	c.loadFile(path, false)
	return c.errorSince(n)
}

// loadFile applies path, recording its problems; optional: a missing file
// is not one (the default search).
func (c *Config) loadFile(path string, optional bool) {
	data, err := readFile(path)
	if err != nil {
		if !(optional && errors.Is(err, fs.ErrNotExist)) {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			c.problem(path, "cannot read it: %v", err)
		}
		return
	}
	kvs, bad := parseTOML(data)
	for _, e := range kvs {
		src := fmt.Sprintf("%s:%d", path, e.line)
		if e.key == "cache-dir" && e.value != "" {
			// upki's meaning: the parent of the data directory.
			e.value = filepath.Join(e.value, DataSubdir)
			src += ", cache-dir + " + DataSubdir + "/"
		}
		if err := c.Set(e.key, e.value, src); err != nil {
			bad = append(bad, lineError{e.line, err.Error()})
		}
	}
	slices.SortStableFunc(bad, func(a, b lineError) int { return a.line - b.line })
	for _, b := range bad {
		c.problem(fmt.Sprintf("%s:%d", path, b.line), "%s", b.msg)
	}
	c.Files = append(c.Files, path)
}

// readFile reads a config file: a regular file of at most maxFileSize
// bytes (a FIFO or a device named by mistake must not block or flood).
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return io.ReadAll(io.LimitReader(f, maxFileSize))
}

// ApplyOverrides applies "key=value" pairs separated by ';' or newlines, as
// adapters pass them (openssl.cnf section, modutil -string, environment).
// Every valid pair is applied; the others are recorded in c.Problems and
// returned as an *Error.
func (c *Config) ApplyOverrides(s, source string) error {
	n := len(c.Problems)
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' }) {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			c.problem(source, "%q is not key=value", f)
			continue
		}
		if err := c.Set(strings.TrimSpace(k), strings.TrimSpace(v), source); err != nil {
			c.problem(source, "%v", err)
		}
	}
	return c.errorSince(n)
}

// Set assigns one key, recording its source. Unknown keys are an error.
func (c *Config) Set(key, value, source string) error {
	switch key {
	case "cache-dir":
		if value == "" {
			return fmt.Errorf("cache-dir is empty")
		}
		c.CacheDir = value
	case "max-age":
		d, err := parseAge(value)
		if err != nil {
			return err
		}
		c.Policy.MaxAge = d
	case "revocation.fetch-url":
		c.FetchURL = value
	case "revocation.allow-redirect-hosts":
		c.RedirectHosts = strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	case "intermediates.enabled":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("intermediates.enabled: %q is not true or false", value)
		}
		c.IntermediatesEnabled = b
	case "intermediates.fetch-url":
		c.IntermediatesURL = value
	case "policy.ct":
		m, err := policy.ParseCTMode(value)
		if err != nil {
			return fmt.Errorf("%s: %v", key, err)
		}
		c.Policy.SetCT(m)
	default:
		name, ok := strings.CutPrefix(key, "policy.")
		o, known := outcome.Parse(name)
		if !ok || !known || o == outcome.Revoked || o == outcome.CTNoncompliant {
			return fmt.Errorf("unknown key %q", key)
		}
		a, err := policy.ParseAction(value)
		if err != nil {
			return fmt.Errorf("%s: %v", key, err)
		}
		if err := c.Policy.Set(o, a); err != nil {
			return err
		}
	}
	c.sources[key] = source
	return nil
}

// parseAge accepts Go durations ("240h"), whole days ("10d") and "0".
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("max-age: %q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("max-age: %q is not a duration", s)
	}
	return d, nil
}

// Entry is one effective setting and where it came from.
type Entry struct{ Key, Value, Source string }

// Effective lists every key with its value and source ("default" when unset).
func (c *Config) Effective() []Entry {
	var out []Entry
	for _, k := range Keys {
		src := c.sources[k.Key]
		if src == "" {
			src = "default"
		}
		out = append(out, Entry{k.Key, c.value(k.Key), src})
	}
	return out
}

func (c *Config) value(key string) string {
	switch key {
	case "cache-dir":
		return c.CacheDir
	case "max-age":
		return c.Policy.MaxAge.String()
	case "revocation.fetch-url":
		return c.FetchURL
	case "revocation.allow-redirect-hosts":
		return strings.Join(c.RedirectHosts, " ")
	case "intermediates.enabled":
		return strconv.FormatBool(c.IntermediatesEnabled)
	case "intermediates.fetch-url":
		return c.IntermediatesURL
	case "policy.ct":
		return c.Policy.CT.String()
	}
	o, _ := outcome.Parse(strings.TrimPrefix(key, "policy."))
	return c.Policy.Action(o).String()
}
