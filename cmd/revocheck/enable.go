package main

// `revocheck enable|disable openssl|gnutls|nss`: the administrator's switch
// that turns revocation checking on for a whole TLS stack, and off again.
//
// Every edit is made on a copy that is renamed over the original (readers
// never see half a file), the original is kept once as FILE.revocheck-backup
// before the first change, and a file whose shape we do not understand is
// left alone with an error saying why. --root prefixes every system path so
// that tests and image builders never touch the running system's /etc.

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/revocheck/revocheck/core/paths"
)

const enableUsage = `[flags] openssl|gnutls|nss|all ...

Turns revocheck on system-wide for the named TLS stacks:
  openssl  adds ".include <snippet>" to OpenSSL's openssl.cnf, in a block
           marked "revocheck" (the snippet keeps the default provider active)
  gnutls   adds the GnuTLS hook library to /etc/ld.so.preload
  nss      registers the PKCS#11 trust module in the system NSS database
           /etc/pki/nssdb (created if missing) and/or, with --user, in
           ~/.pki/nssdb
Running it again changes nothing. The first change to a file keeps the
original as FILE.revocheck-backup. "revocheck status" shows the result.`

const disableUsage = `[flags] openssl|gnutls|nss|all ...

Undoes "revocheck enable": removes the marked openssl.cnf block, the
ld.so.preload entry, or the NSS module registration; nothing else.`

// Markers around the lines we own in openssl.cnf.
const (
	blockBegin = "# BEGIN revocheck: added by `revocheck enable openssl`, removed by `revocheck disable openssl`"
	blockEnd   = "# END revocheck"
)

const (
	backupSuffix      = ".revocheck-backup"
	gnutlsHookName    = "librevocheck-gnutls.so"
	nssModuleFile     = "libnssrevocheck.so"
	nssModuleName     = "revocheck"
	opensslModuleFile = "revocheck-openssl.so"
)

// enableOpts are the flags shared by enable and disable.
type enableOpts struct {
	root       string // prefix for every system path (tests, image staging)
	prefix     string // where revocheck is installed (libraries under it)
	libdir     string // explicit library directory
	opensslDir string // OPENSSLDIR (holds openssl.cnf)
	snippet    string // the installed revocheck-openssl.cnf
	preload    string // ld.so.preload
	nssDB      string // explicit NSS database directory
	user       bool   // NSS: the per-user database
	system     bool   // NSS: the system database
	noVerify   bool   // skip running openssl/modutil to check the result

	stdout, stderr io.Writer
}

func (o *enableOpts) register(fs *flag.FlagSet) {
	fs.StringVar(&o.root, "root", "/", "prefix every system path with `DIR` (a staged image or a test tree)")
	fs.StringVar(&o.prefix, "prefix", "", "installation prefix of revocheck's libraries (default: derived from this program's location, then /usr and /usr/local)")
	fs.StringVar(&o.libdir, "libdir", "", "`DIR` holding librevocheck-gnutls.so and pkcs11/libnssrevocheck.so (default: searched under the prefix)")
	fs.StringVar(&o.opensslDir, "openssl-dir", "", "`DIR` holding openssl.cnf, OpenSSL's OPENSSLDIR (default: asked from the openssl command)")
	fs.StringVar(&o.snippet, "snippet", "/etc/ssl/revocheck-openssl.cnf", "the installed OpenSSL config snippet to include")
	fs.StringVar(&o.preload, "preload-file", "/etc/ld.so.preload", "the dynamic loader's preload list")
	fs.StringVar(&o.nssDB, "nssdb", "", "NSS database `DIR` to use instead of /etc/pki/nssdb and ~/.pki/nssdb")
	fs.BoolVar(&o.user, "user", false, "nss: use the per-user database ~/.pki/nssdb")
	fs.BoolVar(&o.system, "system", false, "nss: use the system database /etc/pki/nssdb (the default unless --user is given)")
	fs.BoolVar(&o.noVerify, "no-verify", false, "do not run openssl/modutil afterwards to check that the stack loads revocheck")
}

// sys maps a system path into the root.
func (o *enableOpts) sys(p string) string {
	if o.root == "" || o.root == "/" {
		return filepath.Clean(p)
	}
	return filepath.Join(o.root, p)
}

func (o *enableOpts) live() bool { return o.root == "" || o.root == "/" }

func (o *enableOpts) say(stack, format string, args ...any) {
	fmt.Fprintf(o.stdout, "%s: %s\n", stack, fmt.Sprintf(format, args...))
}

func cmdEnable(args []string, stdout, stderr io.Writer) error {
	return enableMain("enable", enableUsage, args, stdout, stderr)
}

func cmdDisable(args []string, stdout, stderr io.Writer) error {
	return enableMain("disable", disableUsage, args, stdout, stderr)
}

func enableMain(verb, usageText string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(verb, usageText, stderr)
	o := &enableOpts{stdout: stdout, stderr: stderr}
	o.register(fs)
	// Flags may follow the stack names: "enable nss --user".
	var stacks []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		stacks = append(stacks, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(stacks) == 0 {
		fs.Usage()
		return errors.New(verb + ": name a TLS stack: openssl, gnutls, nss or all")
	}
	var expanded []string
	for _, s := range stacks {
		switch s {
		case "all":
			expanded = append(expanded, "openssl", "gnutls", "nss")
		case "openssl", "gnutls", "nss":
			expanded = append(expanded, s)
		default:
			return fmt.Errorf("%s: unknown TLS stack %q (want openssl, gnutls, nss or all)", verb, s)
		}
	}
	if !o.user {
		o.system = true
	}
	if o.root != "/" {
		abs, err := filepath.Abs(o.root)
		if err != nil {
			return err
		}
		o.root = abs
	}
	var failed []string
	seen := map[string]bool{}
	for _, s := range expanded {
		if seen[s] {
			continue
		}
		seen[s] = true
		var err error
		switch s + " " + verb {
		case "openssl enable":
			err = o.enableOpenSSL()
		case "openssl disable":
			err = o.disableOpenSSL()
		case "gnutls enable":
			err = o.enableGnuTLS()
		case "gnutls disable":
			err = o.disableGnuTLS()
		case "nss enable":
			err = o.enableNSS()
		case "nss disable":
			err = o.disableNSS()
		}
		if errors.Is(err, os.ErrPermission) {
			err = fmt.Errorf("%w (system files: run as root, or use --user for NSS)", err)
		}
		if err != nil {
			fmt.Fprintf(stderr, "revocheck: error: %s: %s\n", s, err)
			failed = append(failed, s)
		}
	}
	if len(failed) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%s failed for %s", verb, strings.Join(failed, ", "))}
	}
	if verb == "enable" && o.live() {
		if d := probeDaemon(); !d.Answering {
			fmt.Fprintf(o.stdout, "note: the check daemon is not answering at %s, so every client loads librevocheck.so (a Go runtime) itself; "+
				"`systemctl enable --now revocheck-checkd.socket` avoids that (docs/ARCHITECTURE.md, \"The check daemon\")\n", d.Socket)
		}
	}
	return nil
}

// ---------------------------------------------------------------- files

// resolveInRoot follows symlinks of p (an absolute system path) with
// absolute targets taken inside the root, and returns the host path of the
// final file (which may not exist).
func (o *enableOpts) resolveInRoot(p string) (string, error) {
	cur := filepath.Clean(p)
	for i := 0; i < 40; i++ {
		host := o.sys(cur)
		fi, err := os.Lstat(host)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return host, nil
		}
		t, err := os.Readlink(host)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(cur), t)
		}
		cur = filepath.Clean(t)
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", p)
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, with the old file's mode and owner, renamed over it.
func writeAtomic(path string, data []byte, defMode fs.FileMode) error {
	mode, uid, gid := defMode, -1, -1
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".revocheck-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if uid >= 0 && (uid != os.Getuid() || gid != os.Getgid()) {
		// Only root can give the file away; then keep the owner.
		if err := tmp.Chown(uid, gid); err != nil && !errors.Is(err, fs.ErrPermission) {
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// backupOnce keeps the original of path as path.revocheck-backup before our
// first change to it; later changes keep that first original. Returns the
// backup's path ("" when path does not exist yet: nothing to keep).
func backupOnce(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	b := path + backupSuffix
	if _, err := os.Lstat(b); err == nil {
		return b, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if err := writeAtomic(b, data, fi.Mode().Perm()); err != nil {
		return "", fmt.Errorf("keeping a backup of %s: %w", path, err)
	}
	return b, nil
}

// shown turns a host path back into the path as the system sees it.
func (o *enableOpts) shown(host string) string {
	if o.live() {
		return host
	}
	if rel, err := filepath.Rel(o.root, host); err == nil && !strings.HasPrefix(rel, "..") {
		return o.root + ":/" + rel
	}
	return host
}

// multiarch is Debian's library directory name for this architecture.
func multiarch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64-linux-gnu"
	case "arm64":
		return "aarch64-linux-gnu"
	case "386":
		return "i386-linux-gnu"
	case "arm":
		return "arm-linux-gnueabihf"
	case "ppc64le":
		return "powerpc64le-linux-gnu"
	case "s390x":
		return "s390x-linux-gnu"
	case "riscv64":
		return "riscv64-linux-gnu"
	}
	return ""
}

// findLib returns the system path (not root-prefixed) of rel (e.g.
// "librevocheck-gnutls.so") in revocheck's library directory.
func (o *enableOpts) findLib(rel string) (string, error) {
	var dirs []string
	if o.libdir != "" {
		dirs = []string{o.libdir}
	} else {
		var prefixes []string
		if o.prefix != "" {
			prefixes = append(prefixes, o.prefix)
		} else {
			// Where `make install` put it (compiled in), then this
			// executable's own prefix (the build tree: build/bin/../lib);
			// the usual prefixes only in a build that has no libdir.
			if paths.LibDir != "" {
				dirs = append(dirs, paths.LibDir)
			}
			if o.live() {
				if exe, err := os.Executable(); err == nil {
					if r, err := filepath.EvalSymlinks(exe); err == nil {
						exe = r
					}
					prefixes = append(prefixes, filepath.Dir(filepath.Dir(exe)))
				}
			}
			if paths.LibDir == "" {
				prefixes = append(prefixes, "/usr", "/usr/local")
			}
		}
		for _, p := range prefixes {
			if ma := multiarch(); ma != "" {
				dirs = append(dirs, filepath.Join(p, "lib", ma))
			}
			dirs = append(dirs, filepath.Join(p, "lib64"), filepath.Join(p, "lib"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, rel)
		if fi, err := os.Stat(o.sys(p)); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s (install it with `make install`, or name the directory with --libdir)",
		rel, strings.Join(dirs, ", "))
}

// checkELF makes sure a library we are about to put in front of every
// process is a shared object of this machine's word size.
func checkELF(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var h [18]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Errorf("%s: not an ELF shared object", path)
	}
	if string(h[:4]) != "\x7fELF" {
		return fmt.Errorf("%s: not an ELF shared object", path)
	}
	want := byte(2) // ELFCLASS64
	if strconvIntSize == 32 {
		want = 1
	}
	if h[4] != want {
		return fmt.Errorf("%s: ELF class %d does not match this system's (%d)", path, h[4], want)
	}
	etype := uint16(h[16]) | uint16(h[17])<<8 // e_type, in the file's byte order
	if h[5] == 2 {
		etype = uint16(h[16])<<8 | uint16(h[17])
	}
	if etype != 3 { // ET_DYN
		return fmt.Errorf("%s: not a shared object", path)
	}
	return nil
}

const strconvIntSize = 32 << (^uint(0) >> 63)

// enableBackups lists, per stack, the originals `revocheck enable` kept
// on this system (for `revocheck status`).
func enableBackups() map[string][]string {
	o := &enableOpts{root: "/", system: true, user: true}
	cands := map[string][]string{"gnutls": {"/etc/ld.so.preload"}}
	if host, _, err := o.opensslConfPath(); err == nil {
		cands["openssl"] = []string{host}
	}
	if dbs, err := o.nssDBs(); err == nil {
		for _, db := range dbs {
			cands["nss"] = append(cands["nss"], filepath.Join(db, "pkcs11.txt"))
		}
	}
	out := map[string][]string{}
	for stack, files := range cands {
		for _, f := range files {
			if _, err := os.Stat(f + backupSuffix); err == nil {
				out[stack] = append(out[stack], f+backupSuffix)
			}
		}
	}
	return out
}

// ---------------------------------------------------------------- openssl

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

// cnfLine is one logical line of an OpenSSL config file.
type cnfLine struct {
	num     int    // first physical line
	section string // section it belongs to
	key     string // "" for headers, directives, blank lines and comments
	value   string
	include string // .include argument
}

// parseCnf reads the structure OpenSSL's NCONF parser sees: sections,
// key = value pairs (comments stripped, continuation lines joined) and
// .include directives. It refuses what it cannot read reliably.
func parseCnf(data []byte, name string) ([]cnfLine, error) {
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: binary or non-UTF-8 content", name)
	}
	var out []cnfLine
	section := "default"
	phys := strings.Split(string(data), "\n")
	for i := 0; i < len(phys); i++ {
		num := i + 1
		line := strings.TrimRight(phys[i], "\r")
		for strings.HasSuffix(line, "\\") && !strings.HasSuffix(line, "\\\\") && i+1 < len(phys) {
			i++
			line = line[:len(line)-1] + strings.TrimRight(phys[i], "\r")
		}
		s := strings.TrimSpace(stripCnfComment(line))
		switch {
		case s == "":
			continue
		case strings.HasPrefix(s, "["):
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: section header without ']'", name, num)
			}
			section = strings.TrimSpace(s[1:end])
			if section == "" {
				return nil, fmt.Errorf("%s:%d: empty section name", name, num)
			}
			out = append(out, cnfLine{num: num, section: section})
		case strings.HasPrefix(s, ".include"):
			arg := strings.TrimSpace(strings.TrimPrefix(s, ".include"))
			arg = strings.TrimSpace(strings.TrimPrefix(arg, "="))
			if arg == "" {
				return nil, fmt.Errorf("%s:%d: .include without a path", name, num)
			}
			out = append(out, cnfLine{num: num, section: section, include: arg})
		case strings.HasPrefix(s, "."):
			// .pragma and friends: no effect on the sections we look at.
			out = append(out, cnfLine{num: num, section: section})
		default:
			eq := strings.IndexByte(s, '=')
			if eq <= 0 {
				return nil, fmt.Errorf("%s:%d: line is neither a section, a directive nor key = value", name, num)
			}
			key := strings.TrimSpace(s[:eq])
			val := strings.Trim(strings.TrimSpace(s[eq+1:]), "\"'")
			// "sect::key = v" names another section explicitly.
			if k, sec, ok := strings.Cut(key, "::"); ok {
				out = append(out, cnfLine{num: num, section: k, key: sec, value: val})
				continue
			}
			out = append(out, cnfLine{num: num, section: section, key: key, value: val})
		}
	}
	return out, nil
}

// stripCnfComment drops an unescaped, unquoted '#' and what follows.
func stripCnfComment(s string) string {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '#':
			return s[:i]
		}
	}
	return s
}

// cnfLookup collects, across a config file and everything it includes,
// the values of the keys the snippet sets.
type cnfLookup struct {
	o       *enableOpts
	values  map[string][]string // "section key" -> values in file order
	where   map[string][]string // "section key" -> file:line
	snippet []string            // places that include the snippet outside our block
	depth   int
}

func (c *cnfLookup) add(lines []cnfLine, file string, skip func(int) bool) error {
	for _, l := range lines {
		if skip != nil && skip(l.num) {
			continue
		}
		if l.include != "" {
			if filepath.Clean(l.include) == filepath.Clean(c.o.snippet) {
				c.snippet = append(c.snippet, fmt.Sprintf("%s:%d", file, l.num))
				continue
			}
			if err := c.follow(l.include, file); err != nil {
				return err
			}
			continue
		}
		if l.key == "" {
			continue
		}
		k := l.section + " " + l.key
		c.values[k] = append(c.values[k], l.value)
		c.where[k] = append(c.where[k], fmt.Sprintf("%s:%d", file, l.num))
	}
	return nil
}

// follow reads an included file or directory (OpenSSL reads *.cnf and
// *.conf files of a directory) so that settings made there count too.
func (c *cnfLookup) follow(inc, from string) error {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 8 {
		return fmt.Errorf("%s: includes nested too deep", from)
	}
	if !filepath.IsAbs(inc) {
		// Relative includes depend on the program's working directory (or
		// OPENSSL_CONF_INCLUDE): we cannot know what they hold.
		return fmt.Errorf("%s: relative .include %q: cannot tell what it configures", from, inc)
	}
	host := c.o.sys(inc)
	fi, err := os.Stat(host)
	if err != nil {
		return nil // OpenSSL skips a missing include too
	}
	var files []string
	if fi.IsDir() {
		ents, err := os.ReadDir(host)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if n := e.Name(); strings.HasSuffix(n, ".cnf") || strings.HasSuffix(n, ".conf") {
				files = append(files, filepath.Join(host, n))
			}
		}
	} else {
		files = []string{host}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		lines, err := parseCnf(data, f)
		if err != nil {
			return err
		}
		if err := c.add(lines, f, nil); err != nil {
			return err
		}
	}
	return nil
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

// ---------------------------------------------------------------- gnutls

// ld.so.preload entries are separated by whitespace or ':' (ld.so(8));
// ld.so knows no comments, but we leave any text after '#' alone. An
// entry is ours by its file name.
func isGnuTLSHook(entry string) bool { return filepath.Base(entry) == gnutlsHookName }

func (o *enableOpts) enableGnuTLS() error {
	lib, err := o.findLib(gnutlsHookName)
	if err != nil {
		return err
	}
	if err := checkELF(o.sys(lib)); err != nil {
		return fmt.Errorf("refusing to preload it into every process: %w", err)
	}
	if _, err := os.Stat(o.sys(filepath.Join(filepath.Dir(lib), "librevocheck.so.0"))); err != nil {
		o.say("gnutls", "warning: librevocheck.so.0 is not next to %s: the hook will look for it on the library path", lib)
	}
	host, err := o.resolveInRoot(o.preload)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(host)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return fmt.Errorf("%s: binary content; refusing to edit", o.shown(host))
	}
	for i, line := range strings.Split(string(data), "\n") {
		body, _, _ := strings.Cut(line, "#")
		for _, f := range strings.FieldsFunc(body, isPreloadSep) {
			if f == lib {
				o.say("gnutls", "%s already preloads %s; nothing changed", o.shown(host), lib)
				return nil
			}
			if isGnuTLSHook(f) {
				return fmt.Errorf("%s:%d already preloads another copy, %s; run `revocheck disable gnutls` first", o.shown(host), i+1, f)
			}
		}
	}
	newData := append([]byte{}, data...)
	if len(newData) > 0 && newData[len(newData)-1] != '\n' {
		newData = append(newData, '\n')
	}
	newData = append(newData, lib+"\n"...)
	backup, err := backupOnce(host)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return err
	}
	if err := writeAtomic(host, newData, 0o644); err != nil {
		return err
	}
	if backup != "" {
		o.say("gnutls", "added %s to %s; original kept as %s", lib, o.shown(host), o.shown(backup))
	} else {
		o.say("gnutls", "created %s preloading %s", o.shown(host), lib)
	}
	return nil
}

func isPreloadSep(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == ':' }

func (o *enableOpts) disableGnuTLS() error {
	host, err := o.resolveInRoot(o.preload)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(host)
	if errors.Is(err, fs.ErrNotExist) {
		o.say("gnutls", "%s does not exist; nothing to do", o.shown(host))
		return nil
	}
	if err != nil {
		return err
	}
	var out []string
	var removed []string
	for _, line := range strings.Split(string(data), "\n") {
		body, comment, hasComment := strings.Cut(line, "#")
		fields := strings.FieldsFunc(body, isPreloadSep)
		var keep []string
		for _, f := range fields {
			if isGnuTLSHook(f) {
				removed = append(removed, f)
			} else {
				keep = append(keep, f)
			}
		}
		if len(keep) == len(fields) {
			out = append(out, line) // untouched lines stay byte for byte
			continue
		}
		if len(keep) == 0 && !hasComment {
			continue // the line held only our entry
		}
		nl := strings.Join(keep, " ")
		if hasComment {
			nl += " #" + comment
		}
		out = append(out, nl)
	}
	if len(removed) == 0 {
		o.say("gnutls", "%s does not preload the revocheck hook; nothing changed", o.shown(host))
		return nil
	}
	newData := []byte(strings.Join(out, "\n"))
	if _, err := backupOnce(host); err != nil {
		return err
	}
	if strings.TrimSpace(string(newData)) == "" {
		// Empty preload list: the file's absence says the same.
		if err := os.Remove(host); err != nil {
			return err
		}
		o.say("gnutls", "removed %s from %s (now empty, deleted)", strings.Join(removed, ", "), o.shown(host))
		return nil
	}
	if err := writeAtomic(host, newData, 0o644); err != nil {
		return err
	}
	o.say("gnutls", "removed %s from %s", strings.Join(removed, ", "), o.shown(host))
	return nil
}

// ---------------------------------------------------------------- nss

// nssDBs returns the host paths of the databases the flags select.
func (o *enableOpts) nssDBs() ([]string, error) {
	if o.nssDB != "" {
		return []string{o.sys(o.nssDB)}, nil
	}
	var dbs []string
	if o.system {
		dbs = append(dbs, o.sys("/etc/pki/nssdb"))
	}
	if o.user {
		h, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("--user: %w", err)
		}
		dbs = append(dbs, o.sys(filepath.Join(h, ".pki", "nssdb")))
	}
	return dbs, nil
}

func nssTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found (Debian: apt install libnss3-tools; Fedora: nss-tools)", name)
	}
	return p, nil
}

func runTool(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	// modutil asks for confirmation when a browser might be running; -force
	// skips that, and stdin is empty so nothing can hang on a prompt.
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// nssModules reads the module names registered in a database's pkcs11.txt.
func nssModules(db string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(db, "pkcs11.txt"))
	if err != nil {
		return nil, err
	}
	mods := map[string]string{} // name -> library
	var lib string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "":
			lib = ""
		case strings.HasPrefix(l, "library="):
			lib = strings.TrimPrefix(l, "library=")
		case strings.HasPrefix(l, "name="):
			mods[strings.TrimPrefix(l, "name=")] = lib
		}
	}
	return mods, nil
}

func (o *enableOpts) enableNSS() error {
	lib, err := o.findLib(filepath.Join("pkcs11", nssModuleFile))
	if err != nil {
		return err
	}
	// modutil loads the module to register it: in a --root tree it loads
	// the tree's copy; the recorded path is then changed to the system one.
	loadPath := o.sys(lib)
	if err := checkELF(loadPath); err != nil {
		return err
	}
	certutil, err := nssTool("certutil")
	if err != nil {
		return err
	}
	modutil, err := nssTool("modutil")
	if err != nil {
		return err
	}
	dbs, err := o.nssDBs()
	if err != nil {
		return err
	}
	for _, db := range dbs {
		if err := o.enableNSSDB(db, lib, loadPath, certutil, modutil); err != nil {
			return err
		}
	}
	return nil
}

func (o *enableOpts) enableNSSDB(db, sysLib, lib, certutil, modutil string) error {
	created := false
	if _, err := os.Stat(filepath.Join(db, "cert9.db")); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(db, "cert8.db")); err == nil {
			return fmt.Errorf("%s is a legacy (dbm) NSS database; convert it to sql first (certutil -K -X -d sql:%s)", o.shown(db), db)
		}
		if err := os.MkdirAll(db, 0o755); err != nil {
			return err
		}
		if _, err := runTool(certutil, "-N", "--empty-password", "-d", "sql:"+db); err != nil {
			return err
		}
		created = true
		if db == o.sys("/etc/pki/nssdb") {
			// The system database is read by every user (as on Fedora).
			for _, f := range []string{"cert9.db", "key4.db", "pkcs11.txt"} {
				if err := os.Chmod(filepath.Join(db, f), 0o644); err != nil {
					return err
				}
			}
		}
		o.say("nss", "created the NSS database %s", o.shown(db))
	}
	mods, err := nssModules(db)
	if err != nil {
		return err
	}
	if have, ok := mods[nssModuleName]; ok {
		if have == sysLib || have == lib {
			o.say("nss", "%s: module %q already registered (%s); nothing changed", o.shown(db), nssModuleName, have)
			if have != lib {
				return nil // a --root tree's path: this system cannot load it
			}
			return o.verifyNSS(db, modutil)
		}
		return fmt.Errorf("%s: a module named %q is registered with another library, %s; run `revocheck disable nss` first", o.shown(db), nssModuleName, have)
	}
	pk := filepath.Join(db, "pkcs11.txt")
	old, err := os.ReadFile(pk)
	if err != nil {
		return err
	}
	backup := ""
	if !created {
		if backup, err = backupOnce(pk); err != nil {
			return err
		}
	}
	if _, err := runTool(modutil, "-add", nssModuleName, "-libfile", lib, "-dbdir", "sql:"+db, "-force"); err != nil {
		// modutil rewrites pkcs11.txt itself: put the old one back whole.
		if rerr := writeAtomic(pk, old, 0o644); rerr != nil {
			return fmt.Errorf("%w\nrestoring %s failed: %v", err, pk, rerr)
		}
		return err
	}
	if backup != "" {
		o.say("nss", "registered %s as %q in %s; original module list kept as %s", sysLib, nssModuleName, o.shown(db), o.shown(backup))
	} else {
		o.say("nss", "registered %s as %q in %s", sysLib, nssModuleName, o.shown(db))
	}
	if err := o.verifyNSS(db, modutil); err != nil {
		return err
	}
	if lib != sysLib {
		return setNSSLibrary(pk, lib, sysLib)
	}
	return nil
}

// setNSSLibrary changes the library path recorded for revocheck's module in
// pkcs11.txt from the --root tree's path to the path the tree's own system
// will see.
func setNSSLibrary(pk, from, to string) error {
	data, err := os.ReadFile(pk)
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	n := 0
	for i, l := range lines {
		if strings.TrimSpace(l) == "library="+from {
			lines[i] = "library=" + to
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%s: expected one library=%s line after modutil -add, found %d", pk, from, n)
	}
	return writeAtomic(pk, []byte(strings.Join(lines, "\n")), 0o644)
}

// verifyNSS asks modutil whether NSS loads the module.
func (o *enableOpts) verifyNSS(db, modutil string) error {
	if o.noVerify {
		return nil
	}
	out, err := runTool(modutil, "-list", nssModuleName, "-dbdir", "sql:"+db)
	if err != nil {
		return fmt.Errorf("registered, but NSS does not list it: %w", err)
	}
	status := ""
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Status:"); ok {
			status = strings.TrimSpace(v)
		}
	}
	if status == "" {
		for _, l := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "status:"); ok {
				status = strings.TrimSpace(v)
			}
		}
	}
	o.say("nss", "verified with modutil -list: module %q status %q", nssModuleName, status)
	return nil
}

func (o *enableOpts) disableNSS() error {
	dbs, err := o.nssDBs()
	if err != nil {
		return err
	}
	var modutil string
	for _, db := range dbs {
		mods, err := nssModules(db)
		if errors.Is(err, fs.ErrNotExist) {
			o.say("nss", "%s: no NSS database; nothing to do", o.shown(db))
			continue
		}
		if err != nil {
			return err
		}
		if _, ok := mods[nssModuleName]; !ok {
			o.say("nss", "%s: module %q not registered; nothing changed", o.shown(db), nssModuleName)
			continue
		}
		if modutil == "" {
			if modutil, err = nssTool("modutil"); err != nil {
				return err
			}
		}
		pk := filepath.Join(db, "pkcs11.txt")
		old, err := os.ReadFile(pk)
		if err != nil {
			return err
		}
		if _, err := backupOnce(pk); err != nil {
			return err
		}
		if _, err := runTool(modutil, "-delete", nssModuleName, "-dbdir", "sql:"+db, "-force"); err != nil {
			if rerr := writeAtomic(pk, old, 0o644); rerr != nil {
				return fmt.Errorf("%w\nrestoring %s failed: %v", err, pk, rerr)
			}
			return err
		}
		o.say("nss", "deleted module %q from %s", nssModuleName, o.shown(db))
	}
	return nil
}
