package integration

import (
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
	"github.com/revocheck/revocheck/internal/cttest"
)

// policy.ct = report: a certificate whose SCTs fail the CT policy is
// served, and the adapter says so once per process, in syslog only
// (rc_loader's RC_NOTE_CT notice), never on the host's stderr. The test
// PKI's "good" leaf carries an SCT of a log no list has.
func TestCTReportNoticeOnce(t *testing.T) {
	needClient(t, "curl")
	env := harness.New(t)
	l, err := cttest.NewLog("test", "Test operator", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := cttest.WriteList(env.CacheDir, l); err != nil {
		t.Fatal(err)
	}
	sink := newLogSink(t)
	ce := append(confEnv(opensslConf(t, env, "policy.ct = report", "socket = none")), sink.env())
	out, err := env.Run(t, ce, "curl", "-sS", "--max-time", "30", "--cacert", env.RootPEM,
		env.Sites["good"].URL, env.Sites["good"].URL)
	if err != nil || strings.Count(out, "hello from") != 2 {
		t.Fatalf("report must allow: %v\n%s", err, out)
	}
	if strings.Contains(out, "revocheck (") {
		t.Errorf("nothing of revocheck's on the host's stderr:\n%s", out)
	}
	if n := sink.count("do not satisfy the Certificate Transparency policy; allowing it (policy.ct = report)"); n != 1 {
		t.Errorf("want one CT notice, got %d: %q", n, sink.messages())
	}
	for _, mode := range []string{"off", "enforce"} {
		sink := newLogSink(t)
		ce := append(confEnv(opensslConf(t, env, "policy.ct = "+mode, "socket = none")), sink.env())
		out, err := env.Run(t, ce, "curl", "-sS", "--max-time", "30", "--cacert", env.RootPEM, env.Sites["good"].URL)
		if served := err == nil && strings.Contains(out, "hello from"); served != (mode == "off") {
			t.Errorf("policy.ct = %s: served %v: %v\n%s", mode, served, err, out)
		}
		want := map[string]int{"off": 0, "enforce": 1}[mode]
		if n := sink.count("refusing it (policy.ct = enforce)"); n != want {
			t.Errorf("policy.ct = %s: %d refusal notices, want %d: %q", mode, n, want, sink.messages())
		}
	}
}
