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
// Protocol: one request per message, one reply per request, any number of
// requests per connection. All integers little-endian.
//
//	request: "RCQ1" | kind u8 | 3 zero bytes | len(overrides) u32 |
//	         len(a) u32 | len(b) u32 | overrides | a | b
//	  kind 1 (KindDER):          a = certificate DER, b = issuer DER
//	  kind 2 (KindIssuerSerial): a = issuer Name DER, b = serial
//	  overrides: the adapter's "key=value;..." (revocheck_open's argument)
//	reply:   "RCA1" | status i32 | outcome i32 | allowed i32
//	  status: 0, or a negative REVOCHECK_ERR_* as the C ABI returns it
//	  (outcome and allowed are the policy's answer either way), or
//	  StatusRefused: this daemon does not serve that configuration (e.g.
//	  the overrides name another cache directory); ask in-process instead.
package checkd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"
)

// Request kinds.
const (
	KindDER          = 1
	KindIssuerSerial = 2
)

// Reply statuses other than the C ABI's REVOCHECK_OK / REVOCHECK_ERR_*.
const (
	StatusOK       = 0
	StatusInvalid  = -2 // REVOCHECK_ERR_INVALID
	StatusInternal = -4 // REVOCHECK_ERR_INTERNAL
	StatusRefused  = 1
)

const (
	requestMagic = "RCQ1"
	replyMagic   = "RCA1"
	headerSize   = 20
	// ReplySize is the size of every reply.
	ReplySize = 16
	// MaxRequest bounds a request: a certificate and its issuer of up to
	// 64 KiB each, plus overrides. The C client never sends more.
	MaxRequest   = 128<<10 + headerSize + MaxOverrides
	MaxOverrides = 4 << 10
)

// Request is a decoded request; its slices alias the message buffer.
type Request struct {
	Kind      uint8
	Overrides string
	A, B      []byte
}

// ParseRequest decodes one message. Every length is checked against the
// message before it is used, so a hostile length cannot allocate or read
// past the end.
func ParseRequest(msg []byte) (Request, error) {
	var r Request
	if len(msg) < headerSize {
		return r, fmt.Errorf("checkd: request of %d bytes is shorter than its %d-byte header", len(msg), headerSize)
	}
	if string(msg[:4]) != requestMagic {
		return r, errors.New("checkd: not a revocheck request (bad magic)")
	}
	r.Kind = msg[4]
	if r.Kind != KindDER && r.Kind != KindIssuerSerial {
		return r, fmt.Errorf("checkd: unknown request kind %d", r.Kind)
	}
	if msg[5]|msg[6]|msg[7] != 0 {
		return r, errors.New("checkd: reserved header bytes are not zero")
	}
	lo := uint64(binary.LittleEndian.Uint32(msg[8:]))
	la := uint64(binary.LittleEndian.Uint32(msg[12:]))
	lb := uint64(binary.LittleEndian.Uint32(msg[16:]))
	if lo > MaxOverrides {
		return r, fmt.Errorf("checkd: overrides of %d bytes exceed %d", lo, MaxOverrides)
	}
	body := uint64(len(msg) - headerSize)
	if lo+la+lb != body {
		return r, fmt.Errorf("checkd: lengths %d+%d+%d do not match the %d-byte body", lo, la, lb, body)
	}
	p := msg[headerSize:]
	r.Overrides = string(p[:lo])
	r.A = p[lo : lo+la : lo+la]
	r.B = p[lo+la:]
	return r, nil
}

// AppendRequest encodes a request (for tests and Go clients).
func AppendRequest(dst []byte, r Request) []byte {
	dst = append(dst, requestMagic...)
	dst = append(dst, r.Kind, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.Overrides)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.A)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.B)))
	dst = append(dst, r.Overrides...)
	dst = append(dst, r.A...)
	return append(dst, r.B...)
}

// Reply is a decoded reply.
type Reply struct {
	Status  int32
	Outcome int32
	Allowed bool
}

// PutReply encodes r into b, which must hold ReplySize bytes.
func PutReply(b []byte, r Reply) {
	copy(b, replyMagic)
	binary.LittleEndian.PutUint32(b[4:], uint32(r.Status))
	binary.LittleEndian.PutUint32(b[8:], uint32(r.Outcome))
	var a uint32
	if r.Allowed {
		a = 1
	}
	binary.LittleEndian.PutUint32(b[12:], a)
}

// ParseReply decodes a reply (for tests and Go clients).
func ParseReply(b []byte) (Reply, error) {
	if len(b) != ReplySize || string(b[:4]) != replyMagic {
		return Reply{}, fmt.Errorf("checkd: malformed reply of %d bytes", len(b))
	}
	a := binary.LittleEndian.Uint32(b[12:])
	if a > 1 {
		return Reply{}, fmt.Errorf("checkd: malformed reply: allowed = %d", a)
	}
	return Reply{Status: int32(binary.LittleEndian.Uint32(b[4:])),
		Outcome: int32(binary.LittleEndian.Uint32(b[8:])), Allowed: a == 1}, nil
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
