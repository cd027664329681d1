package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A stream as go test -json writes it: a pass, a skip with its reason, a
// failing subtest, a package that panicked mid-test, a build failure and
// a package with no tests; then the Docker runner's closing line.
const stream = `{"Action":"start","Package":"a"}
{"Action":"run","Package":"a","Test":"TestOK"}
{"Action":"output","Package":"a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"pass","Package":"a","Test":"TestOK","Elapsed":0.01}
{"Action":"run","Package":"a","Test":"TestSkip"}
{"Action":"output","Package":"a","Test":"TestSkip","Output":"    a_test.go:9: SKIP: curl is not installed; run: apt-get install curl\n"}
{"Action":"output","Package":"a","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}
{"Action":"skip","Package":"a","Test":"TestSkip"}
{"Action":"run","Package":"a","Test":"TestBad"}
{"Action":"run","Package":"a","Test":"TestBad/sub"}
{"Action":"output","Package":"a","Test":"TestBad/sub","Output":"    a_test.go:20: want refused, got accepted\n"}
{"Action":"fail","Package":"a","Test":"TestBad/sub","Elapsed":0.5}
{"Action":"fail","Package":"a","Test":"TestBad","Elapsed":0.5}
{"Action":"output","Package":"a","Output":"FAIL\n"}
{"Action":"fail","Package":"a","Elapsed":1}
{"Action":"run","Package":"b","Test":"TestHang"}
{"Action":"output","Package":"b","Test":"TestHang","Output":"panic: test timed out after 1s\n"}
{"Action":"fail","Package":"b","Elapsed":1}
{"ImportPath":"c [c.test]","Action":"build-output","Output":"c/x.go:1:1: syntax error\n"}
{"ImportPath":"c [c.test]","Action":"build-fail"}
{"Action":"start","Package":"c"}
{"Action":"output","Package":"c","Output":"FAIL\tc [build failed]\n"}
{"Action":"fail","Package":"c","Elapsed":0}
{"Action":"skip","Package":"d","Elapsed":0}
some plain line
docker-test: 5 passed, 1 failed, 2 skipped
`

func TestSummary(t *testing.T) {
	var out bytes.Buffer
	s := newSummary(&out)
	if err := s.Read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	// Passed: TestOK + docker's 5. Failed: TestBad, TestBad/sub, TestHang,
	// package c, docker's 1. Skipped: TestSkip + docker's 2.
	if got := s.Line(); got != "6 passed, 5 failed, 3 skipped" {
		t.Errorf("closing line %q", got)
	}
	o := out.String()
	for _, want := range []string{
		"SKIP  a TestSkip: a_test.go:9: SKIP: curl is not installed; run: apt-get install curl\n",
		"--- FAIL: a TestBad/sub (0.50s)\n        a_test.go:20: want refused, got accepted\n",
		"--- FAIL: b TestHang (did not finish)\n    panic: test timed out after 1s\n",
		"FAIL  build of c [c.test]\nc/x.go:1:1: syntax error\n",
		"some plain line\n",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	if strings.Contains(o, "=== RUN") || strings.Contains(o, `"Action"`) {
		t.Errorf("output echoes the raw stream:\n%s", o)
	}
}

// TestCommandExitCounts: a command that fails without a failed test (go
// test's build error, a crashed runner) still fails the summary.
func TestCommandExitCounts(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "testsummary")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	out, err := exec.Command(bin, "-run", `echo '{"Action":"pass","Package":"a","Test":"T"}'`, "-run", "exit 3").Output()
	if err == nil || !strings.HasSuffix(string(out), "\n1 passed, 1 failed, 0 skipped\n") {
		t.Errorf("a command exiting 3: want exit 1 and one failure, got %v:\n%s", err, out)
	}
	out, err = exec.Command(bin, "-run", `echo '{"Action":"pass","Package":"a","Test":"T"}'`).Output()
	if err != nil || !strings.HasSuffix(string(out), "\n1 passed, 0 failed, 0 skipped\n") {
		t.Errorf("want exit 0 and one pass, got %v:\n%s", err, out)
	}
}
