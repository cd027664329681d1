package config

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The C adapters cannot ask the library for its keys before loading it
// (OpenSSL hands a provider its settings only by name), so they carry the
// list in adapters-common/rc_keys.h; it must be exactly Keys.
func TestAdapterKeysMatchCHeader(t *testing.T) {
	src, err := os.ReadFile("../../adapters-common/rc_keys.h")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)#define RC_CONFIG_KEYS\s+(.*?)\n\n`).FindSubmatch(src)
	if m == nil {
		t.Fatal("rc_keys.h: no RC_CONFIG_KEYS")
	}
	var joined strings.Builder
	for _, lit := range regexp.MustCompile(`"(?:[^"\\]|\\.)*"`).FindAll(m[1], -1) {
		s, err := strconv.Unquote(string(lit))
		if err != nil {
			t.Fatal(err)
		}
		joined.WriteString(s)
	}
	got := strings.Fields(joined.String())
	var want []string
	for _, k := range Keys {
		want = append(want, k.Key)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rc_keys.h RC_CONFIG_KEYS:\n %v\nconfig.Keys:\n %v", got, want)
	}
	mx := regexp.MustCompile(`#define RC_CONFIG_KEYS_MAX (\d+)`).FindSubmatch(src)
	if mx == nil {
		t.Fatal("rc_keys.h: no RC_CONFIG_KEYS_MAX")
	}
	if n, _ := strconv.Atoi(string(mx[1])); n < len(want) {
		t.Errorf("RC_CONFIG_KEYS_MAX must be at least %d", len(want))
	}
}
