// Package httpget is the HTTP side of syncing revocation data, shared by
// `revocheck fetch` (core/fetch) and `revocheck mirror` (core/mirror): GETs
// with bounded bodies, stall detection, retries with backoff, a redirect
// policy, downloads checked against a size and SHA-256, and the three kinds
// of failure (temporary, refused, failed) the commands turn into exit codes.
package httpget

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/revocheck/revocheck/core/version"
)

// Client does bounded reads, stall detection and retries with exponential
// backoff. The zero value is not usable; use NewClient.
type Client struct {
	HTTP         *http.Client
	Attempts     int           // total tries per request (>= 1)
	Backoff      time.Duration // wait before the second try; doubled each time
	MaxBackoff   time.Duration // cap on one wait
	StallTimeout time.Duration // abort a response that sends nothing for this long
	UserAgent    string
	// Progress, when set, is told about every chunk of body bytes received.
	Progress func(n int64)
	// AllowRedirect, when set, decides whether a redirect from one URL to
	// another is followed (nil: any). A refusal is permanent, and so is a
	// chain of more than MaxRedirects hops (a loop).
	AllowRedirect func(from, to *url.URL) bool
	received      int64 // body bytes read over the network (all requests)
	mu            sync.Mutex
}

// NewClient returns a Client with revocheck's defaults: 10 s to connect,
// 30 s without a byte is a stall, 4 attempts, backoff 1 s doubling to 30 s.
func NewClient() *Client {
	stall := 30 * time.Second
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: stall,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       60 * time.Second,
		// Filters are already compressed; plain bytes keep sizes honest.
		DisableCompression: true,
	}
	c := &Client{
		Attempts:     4,
		Backoff:      time.Second,
		MaxBackoff:   30 * time.Second,
		StallTimeout: stall,
		UserAgent:    "revocheck/" + version.Version,
	}
	c.HTTP = &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
	return c
}

// MaxRedirects bounds a redirect chain; more is taken for a loop.
const MaxRedirects = 10

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= MaxRedirects {
		return &redirectError{msg: fmt.Sprintf("%s: more than %d redirects (a redirect loop?)", via[0].URL, MaxRedirects)}
	}
	from := via[len(via)-1].URL
	if c.AllowRedirect != nil && !c.AllowRedirect(from, req.URL) {
		why := fmt.Sprintf("another host or port, not followed; allow the host with --allow-redirect-host %s", req.URL.Hostname())
		if from.Scheme == "https" && req.URL.Scheme != "https" {
			why = "a downgrade from https, never followed"
		}
		return &redirectError{foreign: true, msg: fmt.Sprintf("%s redirects to %s: %s", from, req.URL.Redacted(), why)}
	}
	return nil
}

// SameOrigin allows a redirect to the same host and port (http to https
// too, never back), or to one of the hosts listed.
func SameOrigin(hosts []string) func(from, to *url.URL) bool {
	return func(from, to *url.URL) bool {
		if from.Scheme == "https" && to.Scheme != "https" {
			return false
		}
		if to.Scheme != "http" && to.Scheme != "https" {
			return false
		}
		for _, h := range hosts {
			if strings.EqualFold(h, to.Hostname()) || strings.EqualFold(h, to.Host) {
				return true
			}
		}
		if !strings.EqualFold(from.Hostname(), to.Hostname()) {
			return false
		}
		return portOf(from) == portOf(to) ||
			from.Scheme == "http" && to.Scheme == "https" && from.Port() == "" && to.Port() == ""
	}
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

func (c *Client) addReceived(n int64) {
	c.mu.Lock()
	c.received += n
	p := c.Progress
	c.mu.Unlock()
	if p != nil {
		p(n)
	}
}

// BytesReceived returns the body bytes received so far.
func (c *Client) BytesReceived() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.received
}

// limitError is a body larger than allowed: never retried.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// Response is a small, fully read response (manifests, JSON listings).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// GetSmall fetches url (with extra request headers) and reads at most limit
// bytes of body; a longer body is an error. 2xx and 304 are returned; other
// statuses are errors (404, 410 and 403 are returned as a *Response too
// when allow404: "there is no such file" on some static hosts is a 403).
// Transient failures are retried.
func (c *Client) GetSmall(ctx context.Context, url string, hdr http.Header, limit int64, allow404 bool) (*Response, error) {
	var out *Response
	err := c.retry(ctx, func(ctx context.Context) error {
		out = nil
		resp, cancel, err := c.do(ctx, url, hdr)
		if err != nil {
			return err
		}
		defer cancel()
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotModified || (allow404 && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone || resp.StatusCode == http.StatusForbidden)) {
			out = &Response{Status: resp.StatusCode, Header: resp.Header}
			return nil
		}
		if resp.StatusCode/100 != 2 {
			return statusError(url, resp)
		}
		if resp.ContentLength > limit {
			return &limitError{fmt.Sprintf("%s: response of %d bytes exceeds the %d-byte limit", url, resp.ContentLength, limit)}
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return fmt.Errorf("%s: %w", url, err)
		}
		if int64(len(body)) > limit {
			return &limitError{fmt.Sprintf("%s: response exceeds the %d-byte limit", url, limit)}
		}
		out = &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
		return nil
	})
	return out, classify(err)
}

// Download fetches url into w, which must accept exactly size bytes whose
// SHA-256 is hash. reset is called before every attempt (truncate the
// temporary file). At most size bytes are ever written to w: a body that
// announces or delivers more is cut off with an error, one that delivers
// less is retried.
func (c *Client) Download(ctx context.Context, url string, size int64, hash [32]byte, w io.Writer, reset func() error) error {
	err := c.retry(ctx, func(ctx context.Context) error {
		if err := reset(); err != nil {
			return &Error{err} // local trouble: not retried
		}
		resp, cancel, err := c.do(ctx, url, nil)
		if err != nil {
			return err
		}
		defer cancel()
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return statusError(url, resp)
		}
		if resp.ContentLength >= 0 && resp.ContentLength != size {
			return integrityf("%s: server announces %d bytes, manifest says %d", url, resp.ContentLength, size)
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(resp.Body, size))
		if err != nil {
			var pe *Error
			if errors.As(err, &pe) {
				return err
			}
			return fmt.Errorf("%s: after %d of %d bytes: %w", url, n, size, err)
		}
		if n < size {
			return fmt.Errorf("%s: body ended after %d of %d bytes: %w", url, n, size, io.ErrUnexpectedEOF)
		}
		// One byte of lookahead tells an exact body from an overlong one;
		// it is never written anywhere.
		var probe [1]byte
		if m, _ := io.ReadFull(resp.Body, probe[:]); m > 0 {
			return integrityf("%s: body longer than the manifest's %d bytes", url, size)
		}
		var got [32]byte
		h.Sum(got[:0])
		if got != hash {
			return integrityf("%s: sha-256 %x does not match the manifest's %x", url, got, hash)
		}
		return nil
	})
	return classify(err)
}

// do sends one GET. The returned cancel must be called once the body is
// done; it also stops the stall timer.
func (c *Client) do(ctx context.Context, url string, hdr http.Header) (*http.Response, func(), error) {
	ctx, cancelCtx := context.WithCancelCause(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancelCtx(nil)
		return nil, nil, &Error{fmt.Errorf("fetch: bad url %q: %v", url, err)}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", c.UserAgent)
	stall := c.StallTimeout
	if stall <= 0 {
		stall = 30 * time.Second
	}
	stallErr := fmt.Errorf("%s: no data for %s", url, stall)
	timer := time.AfterFunc(stall, func() { cancelCtx(stallErr) })
	resp, err := c.HTTP.Do(req)
	if err != nil {
		timer.Stop()
		cause := context.Cause(ctx)
		cancelCtx(nil)
		if cause == stallErr {
			return nil, nil, stallErr
		}
		return nil, nil, err
	}
	timer.Reset(stall)
	resp.Body = &stallReader{r: resp.Body, timer: timer, stall: stall, ctx: ctx, stallErr: stallErr, c: c}
	return resp, func() { timer.Stop(); cancelCtx(nil) }, nil
}

// stallReader re-arms the stall timer on every read that makes progress and
// reports a stall as such rather than as "context canceled".
type stallReader struct {
	r        io.ReadCloser
	timer    *time.Timer
	stall    time.Duration
	ctx      context.Context
	stallErr error
	c        *Client
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.timer.Reset(s.stall)
		s.c.addReceived(int64(n))
	}
	if err != nil && err != io.EOF && context.Cause(s.ctx) == s.stallErr {
		err = s.stallErr
	}
	return n, err
}

func (s *stallReader) Close() error { return s.r.Close() }

// retry runs attempt up to c.Attempts times with exponential backoff and
// jitter, as long as the failure is retryable.
func (c *Client) retry(ctx context.Context, attempt func(context.Context) error) error {
	tries := max(c.Attempts, 1)
	wait := c.Backoff
	var err error
	for i := 0; i < tries; i++ {
		if i > 0 {
			d := wait
			if ra := retryAfter(err); ra > d {
				d = ra
			}
			if c.MaxBackoff > 0 && d > c.MaxBackoff {
				d = c.MaxBackoff
			}
			// ±20% jitter so that a fleet of timers does not retry in step.
			d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return errors.Join(err, ctx.Err())
			case <-t.C:
			}
			wait *= 2
		}
		err = attempt(ctx)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func retryAfter(err error) time.Duration {
	var se *httpStatusError
	if errors.As(err, &se) {
		return se.After
	}
	return 0
}

// statusError builds the error for a non-2xx answer, keeping a server's
// Retry-After (in seconds) for the backoff.
func statusError(url string, resp *http.Response) error {
	e := &httpStatusError{URL: url, Status: resp.StatusCode}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		e.After = time.Duration(s) * time.Second
	}
	return e
}
