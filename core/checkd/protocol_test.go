package checkd

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/core/config"
)

// The wire format is defined once, in the C header the adapters compile;
// this test reads it and holds every Go constant to it, so a change on
// either side that the other does not follow fails here.
func TestProtocolMatchesCHeader(t *testing.T) {
	src, err := os.ReadFile("../../adapters-common/rc_protocol.h")
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]string{}
	re := regexp.MustCompile(`(?m)^#define (RC_PROTO_[A-Z0-9_]+) (.+)$`)
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		defs[m[1]] = strings.TrimSpace(m[2])
	}
	str := func(name string) string {
		v, ok := defs[name]
		s, err := strconv.Unquote(v)
		if !ok || err != nil {
			t.Fatalf("rc_protocol.h: %s is %q, want a string literal", name, v)
		}
		return s
	}
	num := func(name string) int {
		n, err := strconv.Atoi(defs[name])
		if err != nil {
			t.Fatalf("rc_protocol.h: %s is %q, want a decimal integer", name, defs[name])
		}
		return n
	}
	strs := map[string]string{
		"RC_PROTO_REQUEST_MAGIC":      requestMagic,
		"RC_PROTO_REPLY_MAGIC":        replyMagic,
		"RC_PROTO_CONTEXT_CONFIG":     contextConfig,
		"RC_PROTO_CONTEXT_INCOMPLETE": contextIncomplete,
		"RC_PROTO_CONTEXT_USER_FILE":  contextUserFile,
		"RC_PROTO_USER_FILE_XDG":      config.UserFileXDG,
		"RC_PROTO_USER_FILE_HOME":     config.UserFileHome,
		"RC_PROTO_CONTEXT_ENV":        strings.Join(config.EnvVars, " "),
	}
	nums := map[string]int{
		"RC_PROTO_HEADER_SIZE":        headerSize,
		"RC_PROTO_OFF_KIND":           offKind,
		"RC_PROTO_OFF_OVERRIDES_LEN":  offOverridesLen,
		"RC_PROTO_OFF_A_LEN":          offALen,
		"RC_PROTO_OFF_B_LEN":          offBLen,
		"RC_PROTO_OFF_CONTEXT_LEN":    offContextLen,
		"RC_PROTO_KIND_DER":           KindDER,
		"RC_PROTO_KIND_ISSUER_SERIAL": KindIssuerSerial,
		"RC_PROTO_KIND_STATE":         KindState,
		"RC_PROTO_KIND_ISSUERS":       KindIssuers,
		"RC_PROTO_OFF_COUNT":          offCount,
		"RC_PROTO_MAX_STATE_TEXT":     MaxStateText,
		"RC_PROTO_REPLY_SIZE":         ReplySize,
		"RC_PROTO_OFF_STATUS":         offStatus,
		"RC_PROTO_OFF_OUTCOME":        offOutcome,
		"RC_PROTO_OFF_ALLOWED":        offAllowed,
		"RC_PROTO_STATUS_OK":          StatusOK,
		"RC_PROTO_STATUS_REFUSED":     StatusRefused,
		"RC_PROTO_MAX_PART":           MaxPart,
		"RC_PROTO_MAX_OVERRIDES":      MaxOverrides,
		"RC_PROTO_MAX_CONTEXT":        MaxContext,
	}
	for name, want := range strs {
		if got := str(name); got != want {
			t.Errorf("%s: header %q, Go %q", name, got, want)
		}
	}
	for name, want := range nums {
		if got := num(name); got != want {
			t.Errorf("%s: header %d, Go %d", name, got, want)
		}
	}
	// Every #define is held to something: a new one needs its Go twin.
	for name := range defs {
		if _, s := strs[name]; !s {
			if _, n := nums[name]; !n {
				t.Errorf("rc_protocol.h defines %s, which no Go constant is held to", name)
			}
		}
	}
	// The header's layout: the length fields follow the kind, 4 bytes
	// each, and end where the header does.
	if offKind != len(requestMagic) || offOverridesLen != offKind+4 || offALen != offOverridesLen+4 ||
		offBLen != offALen+4 || offContextLen != offBLen+4 || headerSize != offContextLen+4 ||
		ReplySize != offAllowed+4 {
		t.Error("the Go offsets do not describe a packed header")
	}
}

func TestRequestClient(t *testing.T) {
	r := Request{Context: "config=/etc/x.toml\x00HOME=/home/u\x00REVOCHECK_CACHE_DIR=/c\x00user-file=1\x00"}
	c, err := r.Client()
	if err != nil || c.Explicit != "/etc/x.toml" || c.Getenv("HOME") != "/home/u" || c.Getenv("REVOCHECK_CACHE_DIR") != "/c" || c.Getenv("PATH") != "" || !c.UserFile {
		t.Errorf("Client: %+v %v", c, err)
	}
	for _, bad := range []string{"PATH=/bin\x00", "incomplete=1\x00", "LD_PRELOAD=x"} {
		if _, err := (Request{Context: bad}).Client(); err == nil {
			t.Errorf("context %q: want an error", bad)
		}
	}
}
