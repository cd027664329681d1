package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"

	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/core/outcome"
)

const (
	rawChunkSize   = 1 << 20 // bytes read at once; also the longest line accepted
	rawWriteBuffer = 256 << 10
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
//
// Lines are answered in chunks of whole lines, in parallel: a reader cuts
// the input into chunks of up to rawChunkSize bytes, GOMAXPROCS workers
// answer them (one rawQuery each: nothing is allocated per line), and this
// goroutine writes the answers chunk by chunk in input order. A chunk is
// whatever one read returned, so a program writing one line at a time into
// a pipe gets each answer at once: output is flushed whenever no further
// chunk is waiting.
func answerLines(chk *engine.Checker, in io.Reader, name string, asJSON bool, stdout, stderr io.Writer) error {
	workers := min(max(runtime.GOMAXPROCS(0), 1), 16)
	p := &rawPipeline{
		chk:     chk,
		asJSON:  asJSON,
		free:    make(chan *rawChunk, 2*workers+2),
		work:    make(chan *rawChunk, 2*workers+2),
		ordered: make(chan *rawChunk, 2*workers+2),
		quit:    make(chan struct{}),
	}
	for range cap(p.free) {
		p.free <- &rawChunk{done: make(chan struct{}, 1)}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := new(rawQuery)
			for {
				select {
				case c, ok := <-p.work:
					if !ok {
						return
					}
					p.answer(q, c)
					c.done <- struct{}{}
				case <-p.quit: // the reader may be blocked in a read
					return
				}
			}
		}()
	}
	go p.read(in) // touches neither chk nor the writers: not waited for
	// The workers use chk, which the caller closes after we return.
	defer wg.Wait()
	defer close(p.quit)

	w := bufio.NewWriterSize(stdout, rawWriteBuffer)
	var (
		problems int // lines bad or not checked
		first    int // the first of them
		lines    int
		readErr  error
	)
	for c := range p.ordered {
		<-c.done
		if _, err := w.Write(c.out); err != nil {
			return fmt.Errorf("check: writing answers: %w", err)
		}
		for _, pr := range c.problems {
			if problems++; problems <= rawMaxReported {
				fmt.Fprintf(stderr, "revocheck: %s:%d: %s: %v\n", name, pr.line, pr.what, pr.err)
			}
			if first == 0 {
				first = pr.line
			}
		}
		problems += c.unreported
		lines += c.lines
		readErr = c.err
		if len(p.ordered) == 0 {
			if err := w.Flush(); err != nil {
				return fmt.Errorf("check: writing answers: %w", err)
			}
		}
		p.free <- c
		if readErr != nil {
			break
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("check: writing answers: %w", err)
	}
	if readErr != nil {
		return fmt.Errorf("check: reading %s after line %d: %w", name, lines, readErr)
	}
	if problems > 0 {
		return &exitError{code: 1, err: fmt.Errorf("error: check: %d of %d line(s) bad or not checked (the first: line %d)", problems, lines, first)}
	}
	return nil
}

// rawChunk is a run of whole input lines and, once answered, their answers.
type rawChunk struct {
	buf     []byte // rawChunkSize bytes, reused
	data    []byte // the lines: buf[:k]; the last may lack its newline at EOF
	first   int    // number of data's first line
	lines   int
	tooLong bool  // data is the start of a line longer than rawChunkSize
	err     error // reading failed after data

	out        []byte
	problems   []rawProblem // the first rawMaxReported of the chunk
	unreported int          // and how many more
	done       chan struct{}
}

type rawProblem struct {
	line int
	what string
	err  error
}

type rawPipeline struct {
	chk     *engine.Checker
	asJSON  bool
	free    chan *rawChunk // chunks not in use: bounds memory and read-ahead
	work    chan *rawChunk // to the workers
	ordered chan *rawChunk // to the writer, in input order
	quit    chan struct{}  // the writer stopped
}

// read cuts the input into chunks of whole lines.
func (p *rawPipeline) read(in io.Reader) {
	defer close(p.ordered)
	defer close(p.work)
	line := 1
	get := func() *rawChunk {
		select {
		case c := <-p.free:
			if c.buf == nil {
				c.buf = make([]byte, rawChunkSize)
			}
			c.data, c.tooLong, c.err, c.lines = nil, false, nil, 0
			return c
		case <-p.quit:
			return nil
		}
	}
	send := func(c *rawChunk) bool {
		c.first = line
		if c.tooLong {
			c.lines = 1
		} else if len(c.data) > 0 {
			c.lines = bytes.Count(c.data, []byte{'\n'})
			if c.data[len(c.data)-1] != '\n' {
				c.lines++
			}
		}
		line += c.lines
		select {
		case p.ordered <- c:
		case <-p.quit:
			return false
		}
		select {
		case p.work <- c:
			return true
		case <-p.quit:
			return false
		}
	}
	c := get()
	fill := 0
	skipping := false // through the rest of a line too long
	for c != nil {
		n, err := in.Read(c.buf[fill:])
		if skipping && n > 0 {
			i := bytes.IndexByte(c.buf[:n], '\n')
			if i < 0 {
				n = 0
			} else {
				n = copy(c.buf, c.buf[i+1:n])
				skipping = false
			}
		}
		fill += n
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			if fill > 0 || err != nil {
				c.data, c.err = c.buf[:fill], err
				send(c)
			}
			return
		}
		last := bytes.LastIndexByte(c.buf[:fill], '\n')
		switch {
		case last >= 0:
			next := get()
			if next == nil {
				return
			}
			tail := copy(next.buf, c.buf[last+1:fill])
			c.data = c.buf[:last+1]
			if !send(c) {
				return
			}
			c, fill = next, tail
		case fill == len(c.buf):
			c.tooLong = true
			if !send(c) {
				return
			}
			c, fill, skipping = get(), 0, true
		}
	}
}

// answer answers every line of c into c.out.
func (p *rawPipeline) answer(q *rawQuery, c *rawChunk) {
	c.out, c.problems, c.unreported = c.out[:0], c.problems[:0], 0
	report := func(line int, what string, err error) {
		if len(c.problems) < rawMaxReported {
			c.problems = append(c.problems, rawProblem{line, what, err})
		} else {
			c.unreported++
		}
	}
	data := c.data
	for n := c.first; n < c.first+c.lines; n++ {
		var o outcome.Outcome
		var lerr error
		if c.tooLong {
			o, lerr = outcome.Error, errRawTooLong
			report(n, "bad line", lerr)
		} else {
			l := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				l, data = data[:i], data[i+1:]
			}
			if perr := q.parse(l); perr != nil {
				o, lerr = outcome.Error, perr
				report(n, "bad line", perr)
			} else if o, lerr = p.chk.Check(&q.In, nil); o == outcome.Error || o == outcome.NoData {
				if lerr == nil {
					lerr = errCheckFailed
				}
				report(n, o.String(), lerr)
			}
		}
		if p.asJSON {
			c.out = appendRawJSON(c.out, n, o, p.chk.Decide(o).Allowed, lerr)
		} else {
			c.out = append(c.out, o.String()...)
			c.out = append(c.out, '\n')
		}
	}
}

var (
	errRawTooLong  = fmt.Errorf("line longer than %d bytes", rawChunkSize)
	errCheckFailed = errors.New("check failed")
)

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
