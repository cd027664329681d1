package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/core/outcome"
)

const (
	rawReadBuffer  = 1 << 20 // also the longest line accepted
	rawWriteBuffer = 64 << 10
	rawMaxReported = 10 // problem lines described on stderr; the rest are counted
)

// checkInputLines answers `check --input`: one outcome per line of path
// ("-": stdin), read as rawline.go describes, against chk. A line that does
// not parse is answered `error` and reading goes on; the exit status is 1
// at the end if any line was bad or could not be checked (error, no_data),
// else 0 whatever the outcomes (see checkUsage).
func checkInputLines(chk *engine.Checker, path string, asJSON bool, stdout, stderr io.Writer) error {
	in, err := openInput(path)
	if err != nil {
		return err
	}
	defer in.Close()
	return answerLines(chk, in, inputName(path), asJSON, stdout, stderr)
}

// answerLines is checkInputLines on a reader; name is how messages call it.
func answerLines(chk *engine.Checker, in io.Reader, name string, asJSON bool, stdout, stderr io.Writer) error {
	r := bufio.NewReaderSize(in, rawReadBuffer)
	w := bufio.NewWriterSize(stdout, rawWriteBuffer)
	q := new(rawQuery)
	var (
		scratch  []byte // one JSON line
		problems int    // lines bad or not checked
		first    int    // the first of them
		lines    int
	)
	report := func(n int, what string, err error) {
		problems++
		if first == 0 {
			first = n
		}
		if problems <= rawMaxReported {
			fmt.Fprintf(stderr, "revocheck: %s:%d: %s: %v\n", name, n, what, err)
		}
	}
	for {
		if r.Buffered() == 0 {
			// Answer everything read so far before a read that may
			// block: a program driving us line by line through a pipe
			// gets each answer without waiting for 64 KiB of them.
			if err := w.Flush(); err != nil {
				return fmt.Errorf("check: writing answers: %w", err)
			}
		}
		line, rerr := r.ReadSlice('\n')
		tooLong := false
		if errors.Is(rerr, bufio.ErrBufferFull) {
			tooLong = true
			for errors.Is(rerr, bufio.ErrBufferFull) { // skip to the line's end
				_, rerr = r.ReadSlice('\n')
			}
		}
		if len(line) == 0 && !tooLong {
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				return fmt.Errorf("check: reading %s: %w", name, rerr)
			}
		}
		lines++
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
		}
		var o outcome.Outcome
		var lerr error
		switch {
		case tooLong:
			o, lerr = outcome.Error, fmt.Errorf("line longer than %d bytes", rawReadBuffer)
			report(lines, "bad line", lerr)
		default:
			if perr := q.parse(line); perr != nil {
				o, lerr = outcome.Error, perr
				report(lines, "bad line", perr)
			} else if o, lerr = chk.CheckInputErr(&q.In, nil); o == outcome.Error || o == outcome.NoData {
				if lerr == nil {
					lerr = errors.New("check failed")
				}
				report(lines, o.String(), lerr)
			}
		}
		if asJSON {
			scratch = appendRawJSON(scratch[:0], lines, o, chk.Decide(o).Allowed, lerr)
			w.Write(scratch)
		} else {
			w.WriteString(o.String())
			w.WriteByte('\n')
		}
		if rerr != nil && rerr != io.EOF {
			w.Flush()
			return fmt.Errorf("check: reading %s after line %d: %w", name, lines, rerr)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("check: writing answers: %w", err)
	}
	if problems > 0 {
		return &exitError{code: 1, err: fmt.Errorf("error: check: %d of %d line(s) bad or not checked (the first: line %d)", problems, lines, first)}
	}
	return nil
}

// appendRawJSON appends {"line":N,"outcome":"...","allowed":B[,"error":"..."]}
// and a newline, without encoding/json's reflection on the common path.
func appendRawJSON(b []byte, line int, o outcome.Outcome, allowed bool, err error) []byte {
	b = append(b, `{"line":`...)
	b = strconv.AppendInt(b, int64(line), 10)
	b = append(b, `,"outcome":"`...)
	b = append(b, o.String()...)
	b = append(b, `","allowed":`...)
	b = strconv.AppendBool(b, allowed)
	if err != nil {
		msg, _ := json.Marshal(err.Error())
		b = append(b, `,"error":`...)
		b = append(b, msg...)
	}
	return append(b, "}\n"...)
}

func inputName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

// openInput opens path for reading, "-" being stdin. A named file must be
// a regular file or a pipe (`--input <(zcat x.gz)`); it is streamed, so its
// size does not matter.
func openInput(path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() && st.Mode()&os.ModeNamedPipe == 0 {
		err = errors.New("not a regular file or a pipe")
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("check: %s: %w", path, err)
	}
	return f, nil
}
