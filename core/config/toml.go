package config

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// maxFileSize bounds a config file; anything larger is not a config file.
const maxFileSize = 1 << 20

// maxBadLines bounds the lines of one file that are skipped for being
// unreadable TOML: each costs a parse of the rest of the file. Past it,
// the rest of the file is reported, not read (no real configuration has
// that many broken lines; a file that does is not one).
const maxBadLines = 64

// kv is one assignment read from a file: section-qualified key, value, line.
type kv struct {
	key   string // "cache-dir", "policy.not-covered"
	value string
	line  int
}

// lineError is a line parseTOML could not read.
type lineError struct {
	line int
	msg  string
}

// parseTOML reads a config file with go-toml's parser (the whole TOML
// 1.0 grammar: strings with every escape, literal and multi-line strings,
// quoted and dotted keys, comments), strictly: values are strings,
// integers or booleans, a key is set once, arrays of tables are not used.
//
// Leniently, too: a typo must not cost the rest of the file. A line the
// parser cannot read is reported with its number and blanked, and the
// file is parsed again, so every other line still applies. Assignments
// under a malformed section header are reported, not applied: their key
// would be a guess.
func parseTOML(data []byte) ([]kv, []lineError) {
	if len(data) > maxFileSize {
		return nil, []lineError{{0, fmt.Sprintf("file larger than %d bytes", maxFileSize)}}
	}
	doc := bytes.Clone(data)
	var bad []lineError
	badHeaders := map[int]bool{} // lines of malformed section headers
	for {
		kvs, bad2, perr := parseDoc(doc, badHeaders)
		if perr == nil {
			bad = append(bad, bad2...)
			slices.SortStableFunc(bad, func(a, b lineError) int { return a.line - b.line })
			return kvs, bad
		}
		// The line to blank is where the failing expression starts: an
		// unterminated array or string opened on line 3 may fail on line
		// 9, and line 3 is the one to skip.
		line, msg := perr.start, perr.msg
		if perr.line > line {
			msg += fmt.Sprintf(" (found on line %d)", perr.line)
		}
		start, end := lineBounds(doc, line)
		text := strings.TrimSpace(string(doc[start:end]))
		if strings.HasPrefix(text, "[") {
			msg = "malformed section header (" + msg + ")"
			badHeaders[line] = true
		}
		if text == "" || len(bad)+1 >= maxBadLines {
			// Nothing left to blank there, or too many: the rest is lost.
			msg += "; the rest of the file is not read"
			return kvsBefore(kvs, line), append(bad, lineError{line, msg})
		}
		bad = append(bad, lineError{line, msg})
		// Blank the line (keeping its newline, so line numbers hold).
		for i := start; i < end; i++ {
			doc[i] = ' '
		}
	}
}

// firstContentLine is the line of the first byte after off that is not
// whitespace or a comment: where the expression after off starts.
func firstContentLine(doc []byte, off int) int {
	i, comment := off, false
	for ; i < len(doc); i++ {
		c := doc[i]
		switch {
		case c == '\n':
			comment = false
		case comment || c == ' ' || c == '\t' || c == '\r':
		case c == '#':
			comment = true
		default:
			return bytes.Count(doc[:i], []byte("\n")) + 1
		}
	}
	return bytes.Count(doc, []byte("\n")) + 1
}

func kvsBefore(kvs []kv, line int) []kv {
	var out []kv
	for _, e := range kvs {
		if e.line < line {
			out = append(out, e)
		}
	}
	return out
}

// lineBounds returns the byte range of line n (1-based) without its
// newline.
func lineBounds(doc []byte, n int) (int, int) {
	start := 0
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(doc[start:], '\n')
		if j < 0 {
			return len(doc), len(doc)
		}
		start += j + 1
	}
	end := start
	if j := bytes.IndexByte(doc[start:], '\n'); j >= 0 {
		end += j
	} else {
		end = len(doc)
	}
	return start, end
}

type parseError struct {
	line  int // where the parser failed
	start int // where the expression it failed in starts
	msg   string
}

// parseDoc parses doc in full. It returns what it read (every assignment
// and the lines it rejects for their value or key), or the first syntax
// error and what preceded it.
func parseDoc(doc []byte, badHeaders map[int]bool) ([]kv, []lineError, *parseError) {
	var p unstable.Parser
	p.Reset(doc)
	var out []kv
	var bad []lineError
	seen := map[string]int{}
	section, sectionLine, badSection := "", 0, 0
	lastBadHeader := func(upTo int) int { // the latest malformed header after the current section's
		n := 0
		for l := range badHeaders {
			if l > sectionLine && l < upTo && l > n {
				n = l
			}
		}
		return n
	}
	lastEnd := 0 // offset after the last expression read
	// Lines are counted here, forward only: Parser.Shape counts from the
	// start of the file each time, quadratic in a large file.
	lineAt, lineOff := 1, 0
	for p.NextExpression() {
		e := p.Expression()
		raw := e.Raw
		if e.Kind == unstable.Table || e.Kind == unstable.ArrayTable {
			raw = e.Child().Raw // a header's own Raw is not set
		}
		off := int(raw.Offset)
		lineAt += bytes.Count(doc[lineOff:off], []byte("\n"))
		lineOff = off
		line := lineAt
		lastEnd = off + int(raw.Length)
		switch e.Kind {
		case unstable.Table:
			name, ok := dottedKey(e.Key())
			if !ok {
				bad = append(bad, lineError{line, "invalid section name"})
				section, sectionLine, badSection = "", line, line
				continue
			}
			section, sectionLine, badSection = name, line, 0
		case unstable.ArrayTable:
			bad = append(bad, lineError{line, "arrays of tables ([[...]]) are not used in a revocheck config"})
			section, sectionLine, badSection = "", line, line
		case unstable.KeyValue:
			key, ok := dottedKey(e.Key())
			if !ok {
				bad = append(bad, lineError{line, "invalid key"})
				continue
			}
			if h := lastBadHeader(line); h != 0 {
				bad = append(bad, lineError{line, fmt.Sprintf("%q not applied: it follows the malformed section header of line %d", key, h)})
				continue
			}
			if badSection != 0 {
				bad = append(bad, lineError{line, fmt.Sprintf("%q not applied: it follows the unusable section header of line %d", key, badSection)})
				continue
			}
			if section != "" {
				key = section + "." + key
			}
			val, err := scalar(e.Value())
			if err != nil {
				bad = append(bad, lineError{line, fmt.Sprintf("%s: %v", key, err)})
				continue
			}
			if first, dup := seen[key]; dup {
				bad = append(bad, lineError{line, fmt.Sprintf("%s is already set on line %d", key, first)})
				continue
			}
			seen[key] = line
			out = append(out, kv{key: key, value: val, line: line})
		}
	}
	if err := p.Error(); err != nil {
		l := errorLine(doc, err)
		return out, bad, &parseError{line: l, start: min(l, firstContentLine(doc, lastEnd)), msg: errorMessage(err)}
	}
	return out, bad, nil
}

// dottedKey joins a key's parts with dots; parts that would need quoting
// to mean what they say ("a.b" as one part) are not revocheck keys.
func dottedKey(it unstable.Iterator) (string, bool) {
	var parts []string
	for it.Next() {
		s := string(it.Node().Data)
		if s == "" || strings.ContainsAny(s, ". \t\"'") {
			return "", false
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "."), len(parts) > 0
}

// scalar is a value as Set takes it: strings as they are, integers in
// decimal, booleans as true/false.
func scalar(n *unstable.Node) (string, error) {
	switch n.Kind {
	case unstable.String:
		return string(n.Data), nil
	case unstable.Bool:
		return string(n.Data), nil
	case unstable.Integer:
		s := strings.ReplaceAll(string(n.Data), "_", "")
		base := 10
		if len(s) > 2 && s[0] == '0' && strings.ContainsRune("xob", rune(s[1])) {
			base, s = map[byte]int{'x': 16, 'o': 8, 'b': 2}[s[1]], s[2:]
		}
		i, err := strconv.ParseInt(s, base, 64)
		if err != nil {
			return "", fmt.Errorf("integer %s out of range", n.Data)
		}
		return strconv.FormatInt(i, 10), nil
	}
	return "", fmt.Errorf("unsupported value (a %s; use a quoted string, an integer or a boolean)", strings.ToLower(n.Kind.String()))
}

// errorLine is the 1-based line of a parser error in doc.
func errorLine(doc []byte, err error) int {
	var pe *unstable.ParserError
	if !errors.As(err, &pe) {
		return 1
	}
	off := cap(doc) - cap(pe.Highlight)
	if pe.Highlight == nil || off < 0 || off > len(doc) {
		off = len(doc)
	}
	return bytes.Count(doc[:off], []byte("\n")) + 1
}

func errorMessage(err error) string {
	var pe *unstable.ParserError
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}
