package main

// A reader for the structure of OpenSSL's configuration files (sections,
// key = value, .include), enough to tell whether including revocheck's
// snippet would change a setting the administrator made.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

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
