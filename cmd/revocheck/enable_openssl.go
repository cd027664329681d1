package main

// `revocheck enable|disable openssl`: a marked .include block in openssl.cnf.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Markers around the lines we own in openssl.cnf.
const (
	blockBegin = "# BEGIN revocheck: added by `revocheck enable openssl`, removed by `revocheck disable openssl`"
	blockEnd   = "# END revocheck"
)

// opensslDirs returns OPENSSLDIR and MODULESDIR as the system sees them.
func (o *enableOpts) opensslDirs() (dir, modules string) {
	dir = o.opensslDir
	if _, err := exec.LookPath("openssl"); err == nil {
		info := runQuiet(nil, "openssl", "version", "-d", "-m")
		if dir == "" {
			dir = opensslField(info, "OPENSSLDIR")
		}
		modules = opensslField(info, "MODULESDIR")
	}
	if dir == "" {
		dir = "/usr/lib/ssl"
	}
	return dir, modules
}

// snippetExpectations are the settings revocheck-openssl.cnf makes; an
// existing, different value would be overridden by including it.
var snippetExpectations = []struct{ key, want, why string }{
	{"default openssl_conf", "openssl_init", "the snippet names its init section openssl_init"},
	{"openssl_init providers", "provider_sect", "the snippet lists providers in provider_sect"},
	{"provider_sect default", "default_sect", "the snippet activates the default provider through default_sect"},
}

// findBlock locates our marked block: the indexes of its first and last
// physical lines, or -1 when absent.
func findBlock(lines []string) (begin, end int, err error) {
	begin, end = -1, -1
	for i, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "# BEGIN revocheck"):
			if begin >= 0 {
				return -1, -1, fmt.Errorf("line %d: a second revocheck block", i+1)
			}
			begin = i
		case t == blockEnd:
			if begin < 0 || end >= 0 {
				return -1, -1, fmt.Errorf("line %d: %q without its BEGIN line", i+1, blockEnd)
			}
			end = i
		}
	}
	if begin >= 0 && end < 0 {
		return -1, -1, fmt.Errorf("line %d: revocheck block without its %q line", begin+1, blockEnd)
	}
	return begin, end, nil
}

// opensslConfPath returns the host path of the openssl.cnf to edit
// (symlinks resolved within the root) and its system path.
func (o *enableOpts) opensslConfPath() (host, system string, err error) {
	dir, _ := o.opensslDirs()
	system = filepath.Join(dir, "openssl.cnf")
	host, err = o.resolveInRoot(system)
	return host, system, err
}

// planOpenSSLEnable returns the new content of openssl.cnf, or nil when the
// include is already in place.
func (o *enableOpts) planOpenSSLEnable(data []byte, name string) ([]byte, string, error) {
	lines := strings.Split(string(data), "\n")
	begin, end, err := findBlock(lines)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w; fix it by hand (the backup, if any, is %s%s)", name, err, name, backupSuffix)
	}
	parsed, err := parseCnf(data, name)
	if err != nil {
		return nil, "", fmt.Errorf("cannot edit safely: %w", err)
	}
	look := &cnfLookup{o: o, values: map[string][]string{}, where: map[string][]string{}}
	inBlock := func(n int) bool { return begin >= 0 && n-1 >= begin && n-1 <= end }
	if err := look.add(parsed, name, inBlock); err != nil {
		return nil, "", fmt.Errorf("cannot edit safely: %w", err)
	}
	if len(look.snippet) > 0 && begin < 0 {
		return nil, fmt.Sprintf("already included outside revocheck's block (%s); nothing changed", strings.Join(look.snippet, ", ")), nil
	}
	for _, e := range snippetExpectations {
		for i, v := range look.values[e.key] {
			if v != e.want {
				sec, key, _ := strings.Cut(e.key, " ")
				return nil, "", fmt.Errorf("cannot edit safely: %s sets %s = %s in [%s], but %s; including it would override that setting. Add the revocheck provider to your own sections instead (see %s)",
					look.where[e.key][i], key, v, sec, e.why, o.snippet)
			}
		}
	}
	if v := look.values["provider_sect revocheck"]; len(v) > 0 {
		return nil, "", fmt.Errorf("cannot edit safely: %s already configures a provider named revocheck outside revocheck's block",
			look.where["provider_sect revocheck"][0])
	}
	block := []string{blockBegin, ".include " + o.snippet, blockEnd}
	if begin >= 0 {
		if end-begin == len(block)-1 && strings.TrimSpace(lines[begin+1]) == block[1] && strings.TrimSpace(lines[begin]) == blockBegin {
			return nil, "already enabled; nothing changed", nil
		}
		// Our own block with other content (another snippet path): replace it.
		out := append([]string{}, lines[:begin]...)
		out = append(out, block...)
		out = append(out, lines[end+1:]...)
		return []byte(strings.Join(out, "\n")), "replaced revocheck's block", nil
	}
	var b bytes.Buffer
	b.Write(data)
	if len(data) > 0 && data[len(data)-1] != '\n' {
		b.WriteByte('\n')
	}
	for _, l := range block {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes(), "added", nil
}

func (o *enableOpts) enableOpenSSL() error {
	snip := o.sys(o.snippet)
	if fi, err := os.Stat(snip); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("the snippet %s is not installed (run `make install-openssl`, or name it with --snippet): OpenSSL would skip the include silently", o.shown(snip))
	}
	_, modules := o.opensslDirs()
	if o.live() && modules != "" {
		if _, err := os.Stat(filepath.Join(modules, opensslModuleFile)); err != nil {
			return fmt.Errorf("the provider %s is not installed in OpenSSL's MODULESDIR %s (run `make install-openssl`)", opensslModuleFile, modules)
		}
	}
	host, system, err := o.opensslConfPath()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(host)
	if errors.Is(err, fs.ErrNotExist) {
		// No system config at all: ours alone would replace OpenSSL's
		// built-in defaults, which we cannot vouch for.
		return fmt.Errorf("%s does not exist; refusing to create a system OpenSSL configuration", o.shown(host))
	}
	if err != nil {
		return err
	}
	newData, what, err := o.planOpenSSLEnable(data, o.shown(host))
	if err != nil {
		return err
	}
	if newData == nil {
		o.say("openssl", "%s: %s", o.shown(host), what)
		return o.verifyOpenSSL(host, nil)
	}
	backup, err := backupOnce(host)
	if err != nil {
		return err
	}
	if err := writeAtomic(host, newData, 0o644); err != nil {
		return err
	}
	o.say("openssl", "%s %q to %s (read as %s); original kept as %s", what, ".include "+o.snippet, o.shown(host), system, o.shown(backup))
	return o.verifyOpenSSL(host, data)
}

// verifyOpenSSL asks OpenSSL itself which providers the configuration
// loads. If the default provider is gone or OpenSSL cannot read the file
// any more, the previous content (old) is put back: a system where no
// OpenSSL program works is worse than one without revocation checks.
func (o *enableOpts) verifyOpenSSL(host string, old []byte) error {
	if o.noVerify || !o.live() {
		o.say("openssl", "not verified (--root or --no-verify): run `openssl list -providers` on the target system")
		return nil
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		o.say("openssl", "not verified: openssl command not found")
		return nil
	}
	cmd := exec.Command("openssl", "list", "-providers")
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+host)
	out, err := cmd.CombinedOutput()
	text := string(out)
	providers := listedProviders(text)
	if _, ok := providers["default"]; err != nil || !ok {
		msg := fmt.Sprintf("`openssl list -providers` with the new configuration: %v\n%s", err, strings.TrimSpace(text))
		if old != nil {
			if rerr := writeAtomic(host, old, 0o644); rerr != nil {
				return fmt.Errorf("%s\nand putting the old file back failed: %v", msg, rerr)
			}
			return fmt.Errorf("%s\nthe default provider would not be active: the previous %s is back in place", msg, host)
		}
		return errors.New(msg)
	}
	st, ok := providers["revocheck"]
	switch {
	case !ok:
		o.say("openssl", "warning: `openssl list -providers` does not list revocheck:\n%s", indent(text))
	case st != "active":
		// Loaded, but without usable data yet (typically before the first
		// `revocheck fetch`): the reason is in the output.
		o.say("openssl", "verified: the revocheck provider is loaded, status %q until it has usable data (run `revocheck fetch`):\n%s", st, indent(text))
	default:
		o.say("openssl", "verified: the revocheck provider is loaded and active:\n%s", indent(text))
	}
	return nil
}

// listedProviders reads `openssl list -providers` output: provider names
// are the lines indented by exactly two spaces, each followed by its
// "status: ..." line (deeper indent). Returns name → status ("" if none).
func listedProviders(out string) map[string]string {
	m := map[string]string{}
	cur := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   "):
			cur = strings.TrimSpace(l)
			m[cur] = ""
		case cur != "" && strings.HasPrefix(l, "   "):
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "status:"); ok {
				m[cur] = strings.TrimSpace(v)
			}
		default:
			cur = ""
		}
	}
	return m
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func (o *enableOpts) disableOpenSSL() error {
	host, _, err := o.opensslConfPath()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(host)
	if errors.Is(err, fs.ErrNotExist) {
		o.say("openssl", "%s does not exist; nothing to do", o.shown(host))
		return nil
	}
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	begin, end, err := findBlock(lines)
	if err != nil {
		return fmt.Errorf("%s: %w; fix it by hand", o.shown(host), err)
	}
	if begin < 0 {
		o.say("openssl", "%s has no revocheck block; nothing changed", o.shown(host))
		o.warnStrayInclude(data, host)
		return nil
	}
	out := append(append([]string{}, lines[:begin]...), lines[end+1:]...)
	newData := []byte(strings.Join(out, "\n"))
	if _, err := backupOnce(host); err != nil {
		return err
	}
	if err := writeAtomic(host, newData, 0o644); err != nil {
		return err
	}
	o.say("openssl", "removed revocheck's block (lines %d-%d) from %s", begin+1, end+1, o.shown(host))
	o.warnStrayInclude(newData, host)
	return nil
}

func (o *enableOpts) warnStrayInclude(data []byte, host string) {
	lines, err := parseCnf(data, host)
	if err != nil {
		return
	}
	for _, l := range lines {
		if l.include != "" && filepath.Clean(l.include) == filepath.Clean(o.snippet) {
			o.say("openssl", "warning: %s:%d still includes %s outside revocheck's block (remove it by hand)", o.shown(host), l.num, o.snippet)
		}
	}
}
