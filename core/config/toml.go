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

// parseTOML reads the small subset of TOML that revocheck's (and upki's)
// config files use: comments, [section] and [a.b] headers, and key = value
// with basic or literal strings, integers, or booleans. Anything else is an
// error naming the line; the full TOML grammar is not needed and every line
// we accept means exactly one thing.
func parseTOML(data []byte) ([]kv, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", maxFileSize)
	}
	var out []kv
	section := ""
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 || strings.TrimSpace(stripComment(line[end+1:])) != "" {
				return nil, fmt.Errorf("line %d: malformed section header", n)
			}
			name := strings.TrimSpace(line[1:end])
			for _, part := range strings.Split(name, ".") {
				if !bareKey(part) {
					return nil, fmt.Errorf("line %d: invalid section name %q", n, name)
				}
			}
			section = name
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			return nil, fmt.Errorf("line %d: expected key = value", n)
		}
		key := strings.TrimSpace(line[:eq])
		if !bareKey(key) {
			return nil, fmt.Errorf("line %d: invalid key %q", n, key)
		}
		val, err := parseValue(strings.TrimSpace(line[eq+1:]))
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		if section != "" {
			key = section + "." + key
		}
		out = append(out, kv{key: key, value: val, line: n})
	}
	return out, nil
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
