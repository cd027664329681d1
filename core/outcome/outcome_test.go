package outcome

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The C side holds the same values and names: revocheck.h's enum (the ABI),
// the name tables of shim.c (revocheck_outcome_string) and rc_loader.c
// (rc_outcome_name, usable without the library), and REVOCHECK_OUTCOME_LAST,
// which bounds the outcomes an adapter accepts from the daemon.
func TestMatchesC(t *testing.T) {
	hdr := read(t, "../../go-shim/revocheck.h")
	values := map[string]int{}
	for _, m := range regexp.MustCompile(`REVOCHECK_OUTCOME_([A-Z_]+) = (\d+)`).FindAllStringSubmatch(hdr, -1) {
		values[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(values) != len(All()) {
		t.Errorf("revocheck.h has %d outcomes, Go %d", len(values), len(All()))
	}
	for _, o := range All() {
		c := strings.ToUpper(o.String())
		if v, ok := values[c]; !ok || v != int(o) {
			t.Errorf("revocheck.h: REVOCHECK_OUTCOME_%s = %d (present %v), Go %d", c, v, ok, o)
		}
	}
	if !strings.Contains(hdr, "#define REVOCHECK_OUTCOME_LAST REVOCHECK_OUTCOME_"+strings.ToUpper(Last.String())) {
		t.Errorf("REVOCHECK_OUTCOME_LAST is not REVOCHECK_OUTCOME_%s", strings.ToUpper(Last.String()))
	}
	for _, f := range []string{"../../go-shim/shim.c", "../../adapters-common/rc_loader.c"} {
		src := read(t, f)
		names := map[string]string{}
		for _, m := range regexp.MustCompile(`\[REVOCHECK_OUTCOME_([A-Z_]+)\] = "([a-z_]+)"`).FindAllStringSubmatch(src, -1) {
			names[m[1]] = m[2]
		}
		for _, o := range All() {
			if got := names[strings.ToUpper(o.String())]; got != o.String() {
				t.Errorf("%s: name of %s is %q", f, o, got)
			}
		}
	}
}

func TestParseAndString(t *testing.T) {
	for _, o := range All() {
		if p, ok := Parse(o.String()); !ok || p != o {
			t.Errorf("Parse(%q) = %v %v", o, p, ok)
		}
	}
	if p, ok := Parse("ct-noncompliant"); !ok || p != CTNoncompliant {
		t.Errorf("dashed name: %v %v", p, ok)
	}
	if Outcome(0).String() != "unknown" || Outcome(Last+1).String() != "unknown" {
		t.Error("out of range outcomes must be unknown")
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
