// Package checkd is `revocheck daemon`: one long-lived process that keeps
// the cache open and answers checks over a local SOCK_SEQPACKET socket.
//
// Why: a short-lived TLS client (curl, wget, tstclnt) that checks in-process
// must load librevocheck.so and start a Go runtime first — about 5 ms, six
// threads and 6 MB here, most of a curl run. Asking a daemon costs one
// socket round trip instead, and a forked child can ask too (a Go runtime
// does not survive fork). The adapters (adapters-common/rc_loader.c) use the
// daemon when its socket exists and fall back to the in-process library
// when it is absent, refuses, or is slow; the answers are the same.
//
// Protocol: defined once, in adapters-common/rc_protocol.h; the constants
// below are held to that header by protocol_test.go. One request per
// message, one reply per request, any number of requests per connection.
//
//	request: "RCQ2" | kind u8 | 3 zero bytes | len(overrides) u32 |
//	         len(a) u32 | len(b) u32 | len(context) u32 |
//	         overrides | a | b | context
//	reply:   "RCA1" | status i32 | outcome i32 | allowed i32
//
// The context is what the adapter's process would configure itself from
// (its config-file setting, the environment read with secure_getenv);
// the daemon decides from it whether it serves that client (Serves).
package checkd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/revocheck/revocheck/core/config"
)

// Request kinds.
const (
	KindDER          = 1
	KindIssuerSerial = 2
	// KindState asks for the state of the client's configuration (a and
	// b empty): the reply's allowed is 1 when checks can use revocation
	// data, and the reply is followed by a one-line state (MaxStateText).
	KindState = 3
	// KindIssuers asks for the candidates for a's missing issuer among
	// the preloaded intermediates (b empty): the reply's count (in place
	// of the outcome) says how many certificates follow it, their DER
	// concatenated, whole ones only, at most MaxPart bytes.
	KindIssuers = 4
)

// Reply statuses other than the C ABI's REVOCHECK_OK / REVOCHECK_ERR_*.
const (
	StatusOK       = 0
	StatusInvalid  = -2 // REVOCHECK_ERR_INVALID
	StatusInternal = -4 // REVOCHECK_ERR_INTERNAL
	StatusRefused  = 1
)

// The layout (rc_protocol.h's RC_PROTO_*).
const (
	requestMagic      = "RCQ2"
	replyMagic        = "RCA1"
	headerSize        = 24
	offKind           = 4
	offOverridesLen   = 8
	offALen           = 12
	offBLen           = 16
	offContextLen     = 20
	offStatus         = 4
	offOutcome        = 8
	offAllowed        = 12
	offCount          = 8            // KindIssuers: the outcome's place
	contextConfig     = "config"     // the adapter's config-file setting
	contextIncomplete = "incomplete" // the adapter's context did not fit
	contextUserFile   = "user-file"  // "1": the client has a user config file
	// ReplySize is the size of every reply.
	ReplySize = 16
	// MaxPart bounds a and b: a certificate, an issuer, a Name or a serial.
	MaxPart      = 64 << 10
	MaxOverrides = 4 << 10
	MaxContext   = 8 << 10
	MaxStateText = 512
	// MaxRequest bounds a request. The C client never sends more.
	MaxRequest = 2*MaxPart + headerSize + MaxOverrides + MaxContext
)

// Request is a decoded request; its slices alias the message buffer.
type Request struct {
	Kind      uint8
	Overrides string
	A, B      []byte
	Context   string // NUL-terminated "name=value" strings
}

// ParseRequest decodes one message. Every length is checked against the
// message before it is used, so a hostile length cannot allocate or read
// past the end.
func ParseRequest(msg []byte) (Request, error) {
	kind, ov, a, b, ctx, err := splitRequest(msg)
	if err != nil {
		return Request{}, err
	}
	return Request{Kind: kind, Overrides: string(ov), A: a, B: b, Context: string(ctx)}, nil
}

// splitRequest is ParseRequest without copying: every part aliases msg
// (the daemon's path, which allocates nothing per request).
func splitRequest(msg []byte) (kind uint8, ov, a, b, ctx []byte, err error) {
	if len(msg) < headerSize {
		return 0, nil, nil, nil, nil, fmt.Errorf("checkd: request of %d bytes is shorter than its %d-byte header", len(msg), headerSize)
	}
	if string(msg[:4]) != requestMagic {
		return 0, nil, nil, nil, nil, errors.New("checkd: not a revocheck request (bad magic)")
	}
	kind = msg[offKind]
	if kind != KindDER && kind != KindIssuerSerial && kind != KindState && kind != KindIssuers {
		return 0, nil, nil, nil, nil, fmt.Errorf("checkd: unknown request kind %d", kind)
	}
	if msg[5]|msg[6]|msg[7] != 0 {
		return 0, nil, nil, nil, nil, errors.New("checkd: reserved header bytes are not zero")
	}
	lo := uint64(binary.LittleEndian.Uint32(msg[offOverridesLen:]))
	la := uint64(binary.LittleEndian.Uint32(msg[offALen:]))
	lb := uint64(binary.LittleEndian.Uint32(msg[offBLen:]))
	lc := uint64(binary.LittleEndian.Uint32(msg[offContextLen:]))
	if lo > MaxOverrides {
		return 0, nil, nil, nil, nil, fmt.Errorf("checkd: overrides of %d bytes exceed %d", lo, MaxOverrides)
	}
	if lc > MaxContext {
		return 0, nil, nil, nil, nil, fmt.Errorf("checkd: context of %d bytes exceeds %d", lc, MaxContext)
	}
	body := uint64(len(msg) - headerSize)
	if lo+la+lb+lc != body {
		return 0, nil, nil, nil, nil, fmt.Errorf("checkd: lengths %d+%d+%d+%d do not match the %d-byte body", lo, la, lb, lc, body)
	}
	p := msg[headerSize:]
	return kind, p[:lo:lo], p[lo : lo+la : lo+la], p[lo+la : lo+la+lb : lo+la+lb], p[lo+la+lb:], nil
}

// AppendRequest encodes a request (for tests and Go clients).
func AppendRequest(dst []byte, r Request) []byte {
	dst = append(dst, requestMagic...)
	dst = append(dst, r.Kind, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.Overrides)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.A)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.B)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.Context)))
	dst = append(dst, r.Overrides...)
	dst = append(dst, r.A...)
	dst = append(dst, r.B...)
	return append(dst, r.Context...)
}

// Reply is a decoded reply.
type Reply struct {
	Status  int32
	Outcome int32
	Allowed bool
	Text    string // KindState only: the state line, sent after the reply
	// KindIssuers only: Outcome is the count (offCount) and Data the
	// candidates' DER, concatenated, sent after the reply (a string so
	// that a Reply stays comparable).
	Data string
}

// AppendReply encodes r, with its Text (at most MaxStateText bytes) after
// the fixed reply.
func AppendReply(dst []byte, r Reply) []byte {
	var b [ReplySize]byte
	PutReply(b[:], r)
	t := r.Text
	if len(t) > MaxStateText {
		t = t[:MaxStateText]
	}
	d := r.Data
	if len(d) > MaxPart {
		d = d[:MaxPart] // never: the server fills whole certificates up to MaxPart
	}
	return append(append(append(dst, b[:]...), t...), d...)
}

// PutReply encodes r into b, which must hold ReplySize bytes.
func PutReply(b []byte, r Reply) {
	copy(b, replyMagic)
	binary.LittleEndian.PutUint32(b[offStatus:], uint32(r.Status))
	binary.LittleEndian.PutUint32(b[offOutcome:], uint32(r.Outcome))
	var a uint32
	if r.Allowed {
		a = 1
	}
	binary.LittleEndian.PutUint32(b[offAllowed:], a)
}

// ParseReply decodes a reply (for tests and Go clients).
func ParseReply(b []byte) (Reply, error) {
	if len(b) != ReplySize || string(b[:4]) != replyMagic {
		return Reply{}, fmt.Errorf("checkd: malformed reply of %d bytes", len(b))
	}
	a := binary.LittleEndian.Uint32(b[offAllowed:])
	if a > 1 {
		return Reply{}, fmt.Errorf("checkd: malformed reply: allowed = %d", a)
	}
	return Reply{Status: int32(binary.LittleEndian.Uint32(b[offStatus:])),
		Outcome: int32(binary.LittleEndian.Uint32(b[offOutcome:])), Allowed: a == 1}, nil
}

// Ping asks the daemon at path an empty question (answered with an error
// status) and reports whether it answered, within timeout.
func Ping(path string, timeout time.Duration) error {
	c, err := net.DialTimeout("unixpacket", path, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := c.Write(AppendRequest(nil, Request{Kind: KindDER})); err != nil {
		return err
	}
	var b [ReplySize + 1]byte
	n, err := c.Read(b[:])
	if err != nil {
		return err
	}
	_, err = ParseReply(b[:n])
	return err
}

// Client is what a request says about the client's configuration.
type Client struct {
	Explicit string            // the adapter's config-file setting
	Env      map[string]string // the variables of config.EnvVars it passed on
	UserFile bool              // it sees its user config file (config.UserFile)
}

// Getenv looks a variable up in the client's environment.
func (c Client) Getenv(k string) string { return c.Env[k] }

// Client decodes the request's context. A name outside those of
// rc_protocol.h, or a context the adapter could not fit, is an error: a
// request is served only for a configuration fully known.
func (r Request) Client() (Client, error) {
	c := Client{Env: map[string]string{}}
	for _, kv := range strings.Split(r.Context, "\x00") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == contextConfig:
			c.Explicit = v
		case k == contextUserFile:
			c.UserFile = v == "1"
		case slices.Contains(config.EnvVars, k):
			c.Env[k] = v
		case k == contextIncomplete:
			return c, errors.New("checkd: the adapter's context did not fit in a request")
		default:
			return c, fmt.Errorf("checkd: unknown context name %q", k)
		}
	}
	return c, nil
}
