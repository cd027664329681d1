package config

import (
	"fmt"
	"strconv"
	"strings"
)

// maxFileSize bounds a config file; anything larger is not a config file.
const maxFileSize = 1 << 20

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

// parseTOML reads the small subset of TOML that revocheck's (and upki's)
// config files use: comments, [section] and [a.b] headers, and key = value
// with basic or literal strings, integers, or booleans. Anything else is an
// error naming the line; the full TOML grammar is not needed and every line
// we accept means exactly one thing.
//
// A line it cannot read is reported and skipped; the others are still
// returned (a typo must not cost the rest of the file). Assignments under
// a malformed section header are reported too, not applied: their key
// would be a guess.
func parseTOML(data []byte) ([]kv, []lineError) {
	if len(data) > maxFileSize {
		return nil, []lineError{{0, fmt.Sprintf("file larger than %d bytes", maxFileSize)}}
	}
	var out []kv
	var bad []lineError
	section, badSection := "", 0
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 || strings.TrimSpace(stripComment(line[end+1:])) != "" {
				bad = append(bad, lineError{n, "malformed section header"})
				badSection = n
				continue
			}
			name := strings.TrimSpace(line[1:end])
			valid := true
			for _, part := range strings.Split(name, ".") {
				valid = valid && bareKey(part)
			}
			if !valid {
				bad = append(bad, lineError{n, fmt.Sprintf("invalid section name %q", name)})
				badSection = n
				continue
			}
			section, badSection = name, 0
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			bad = append(bad, lineError{n, "expected key = value"})
			continue
		}
		key := strings.TrimSpace(line[:eq])
		if !bareKey(key) {
			bad = append(bad, lineError{n, fmt.Sprintf("invalid key %q", key)})
			continue
		}
		val, err := parseValue(strings.TrimSpace(line[eq+1:]))
		if err != nil {
			bad = append(bad, lineError{n, err.Error()})
			continue
		}
		if badSection != 0 {
			bad = append(bad, lineError{n, fmt.Sprintf("%q not applied: it follows the malformed section header of line %d", key, badSection)})
			continue
		}
		if section != "" {
			key = section + "." + key
		}
		out = append(out, kv{key: key, value: val, line: n})
	}
	return out, bad
}

func bareKey(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// stripComment removes a trailing "# ..." outside of strings (the caller
// has already consumed any string).
func stripComment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

func parseValue(s string) (string, error) {
	switch {
	case s == "":
		return "", fmt.Errorf("missing value")
	case s[0] == '"':
		return parseBasicString(s)
	case s[0] == '\'':
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", fmt.Errorf("unterminated string")
		}
		if strings.TrimSpace(stripComment(s[end+2:])) != "" {
			return "", fmt.Errorf("trailing characters after string")
		}
		return s[1 : end+1], nil
	}
	v := strings.TrimSpace(stripComment(s))
	if v == "true" || v == "false" {
		return v, nil
	}
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return v, nil
	}
	return "", fmt.Errorf("unsupported value %q (use a quoted string, an integer or a boolean)", v)
}

func parseBasicString(s string) (string, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			if strings.TrimSpace(stripComment(s[i+1:])) != "" {
				return "", fmt.Errorf("trailing characters after string")
			}
			return b.String(), nil
		case '\\':
			i++
			if i >= len(s) {
				return "", fmt.Errorf("unterminated escape")
			}
			switch s[i] {
			case '"', '\\':
				b.WriteByte(s[i])
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				return "", fmt.Errorf("unsupported escape \\%c", s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unterminated string")
}
