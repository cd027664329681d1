// Command go-shim is built with -buildmode=c-shared into librevocheck.so:
// the C ABI of revocheck (revocheck.h). This file only translates between C
// and core/engine: handles are integers in a copy-on-write table, inputs are
// read in place for the duration of the call (no Go pointer reaches C and no
// C pointer is kept), and no panic crosses the boundary.
package main

/*
#cgo CFLAGS: -std=c11 -Wall -Wextra -Werror -fvisibility=hidden
#include <stdint.h>
#include <stddef.h>
#include "revocheck.h"

int rc_secure(void); // shim.c
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/core/intermediates"
	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/core/version"
)

func main() {}

// handle is one revocheck_open: a checker and its last error.
type handle struct {
	checker *engine.Checker
	lastErr atomic.Pointer[string]
}

var (
	handlesMu sync.Mutex                        // serialises writers of handles
	handles   atomic.Pointer[map[int64]*handle] // readers load without locking
	nextID    int64
	openErr   atomic.Pointer[string]       // last revocheck_open failure (handle 0)
	cVersion  = C.CString(version.Version) // static for the process lifetime
)

func lookup(h C.int64_t) *handle {
	m := handles.Load()
	if m == nil {
		return nil
	}
	return (*m)[int64(h)]
}

func (h *handle) fail(code C.int, err error) C.int {
	s := err.Error()
	h.lastErr.Store(&s)
	return code
}

// guard turns a panic into REVOCHECK_ERR_INTERNAL with an error result.
func guard(rc *C.int, res *C.revocheck_result, h *handle) {
	if r := recover(); r != nil {
		msg := fmt.Sprintf("internal error: %v", r)
		if h != nil {
			h.lastErr.Store(&msg)
		} else {
			openErr.Store(&msg)
		}
		if res != nil {
			res.outcome = C.int32_t(outcome.Error)
			res.allowed = 0
			if h != nil && h.checker.Decide(outcome.Error).Allowed {
				res.allowed = 1
			}
		}
		*rc = C.REVOCHECK_ERR_INTERNAL
	}
}

//export rcGoVersion
func rcGoVersion() *C.char { return cVersion }

//export rcGoOpen
func rcGoOpen(configPath, overrides *C.char, out *C.int64_t) (rc C.int) {
	defer guard(&rc, nil, nil)
	var path, ov string
	if configPath != nil {
		path = C.GoString(configPath)
	}
	if overrides != nil {
		ov = C.GoString(overrides)
	}
	open := engine.Open
	if C.rc_secure() != 0 {
		open = engine.OpenSecure // setuid/setgid: the environment is the caller's
	}
	c, err := open(path, ov)
	if err != nil {
		s := err.Error()
		openErr.Store(&s)
		return C.REVOCHECK_ERR_CONFIG
	}
	handlesMu.Lock()
	defer handlesMu.Unlock()
	nextID++
	m := map[int64]*handle{}
	if old := handles.Load(); old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	hd := &handle{checker: c}
	if ps := c.Config.Problems; len(ps) > 0 {
		// Opened anyway, those settings at their defaults; the adapter
		// reads this with revocheck_errmsg(handle) and says it once.
		s := (&config.Error{Problems: ps}).Error()
		hd.lastErr.Store(&s)
	}
	m[nextID] = hd
	handles.Store(&m)
	*out = C.int64_t(nextID)
	return C.REVOCHECK_OK
}

//export rcGoClose
func rcGoClose(h C.int64_t) (rc C.int) {
	defer guard(&rc, nil, nil)
	handlesMu.Lock()
	defer handlesMu.Unlock()
	old := handles.Load()
	if old == nil || (*old)[int64(h)] == nil {
		return C.REVOCHECK_ERR_BADHANDLE
	}
	hd := (*old)[int64(h)]
	m := map[int64]*handle{}
	for k, v := range *old {
		if k != int64(h) {
			m[k] = v
		}
	}
	handles.Store(&m)
	// Checks already running on this handle finish on their own reference;
	// the checker's mappings are released when the last one is done.
	hd.checker.Close()
	return C.REVOCHECK_OK
}

func bytesOf(p unsafe.Pointer, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), int(n))
}

func setResult(res *C.revocheck_result, d engine.Decision) {
	res.outcome = C.int32_t(d.Outcome)
	res.allowed = 0
	if d.Allowed {
		res.allowed = 1
	}
}

//export rcGoCheckDER
func rcGoCheckDER(h C.int64_t, cert unsafe.Pointer, certLen C.size_t, issuer unsafe.Pointer, issuerLen C.size_t, res *C.revocheck_result) (rc C.int) {
	hd := lookup(h)
	defer guard(&rc, res, hd)
	if hd == nil {
		res.outcome, res.allowed = C.int32_t(outcome.Error), 0
		return C.REVOCHECK_ERR_BADHANDLE
	}
	d, err := hd.checker.CheckDER(bytesOf(cert, certLen), bytesOf(issuer, issuerLen))
	setResult(res, d)
	if err != nil {
		return hd.fail(C.REVOCHECK_ERR_INVALID, err)
	}
	return C.REVOCHECK_OK
}

//export rcGoCheckInput
func rcGoCheckInput(h C.int64_t, spki unsafe.Pointer, serial unsafe.Pointer, serialLen C.size_t, scts unsafe.Pointer, nSCTs C.size_t, res *C.revocheck_result) (rc C.int) {
	hd := lookup(h)
	defer guard(&rc, res, hd)
	if hd == nil {
		res.outcome, res.allowed = C.int32_t(outcome.Error), 0
		return C.REVOCHECK_ERR_BADHANDLE
	}
	if spki == nil || (scts == nil && nSCTs > 0) || nSCTs > 64 {
		d := hd.checker.Decide(outcome.Error)
		setResult(res, d)
		return hd.fail(C.REVOCHECK_ERR_INVALID, fmt.Errorf("revocheck_check_input: NULL issuer hash or bad SCT array"))
	}
	// revocheck_sct has the same layout as certinput.SCT (32 bytes + u64).
	// Certificates carry two or three SCTs; a larger array (up to the 64
	// accepted) allocates rather than zeroing 2.5 KB of stack per check.
	var buf [8]certinput.SCT
	in := certinput.Input{Serial: bytesOf(serial, serialLen), SCTs: buf[:0]}
	copy(in.IssuerSPKIHash[:], bytesOf(spki, 32))
	if nSCTs > 0 {
		for _, s := range unsafe.Slice((*C.revocheck_sct)(scts), int(nSCTs)) {
			var sct certinput.SCT
			sct.LogID = *(*[32]byte)(unsafe.Pointer(&s.log_id[0]))
			sct.Timestamp = uint64(s.timestamp_ms)
			in.SCTs = append(in.SCTs, sct)
		}
	}
	o, _ := hd.checker.Check(&in, nil)
	setResult(res, hd.checker.Decide(o))
	return C.REVOCHECK_OK
}

//export rcGoCheckIssuerSerial
func rcGoCheckIssuerSerial(h C.int64_t, name unsafe.Pointer, nameLen C.size_t, serial unsafe.Pointer, serialLen C.size_t, res *C.revocheck_result) (rc C.int) {
	hd := lookup(h)
	defer guard(&rc, res, hd)
	if hd == nil {
		res.outcome, res.allowed = C.int32_t(outcome.Error), 0
		return C.REVOCHECK_ERR_BADHANDLE
	}
	d, err := hd.checker.CheckIssuerSerial(bytesOf(name, nameLen), bytesOf(serial, serialLen))
	setResult(res, d)
	if err != nil {
		return hd.fail(C.REVOCHECK_ERR_INVALID, err)
	}
	return C.REVOCHECK_OK
}

//export rcGoErrmsg
func rcGoErrmsg(h C.int64_t, buf *C.char, size C.size_t) (rc C.int) {
	defer guard(&rc, nil, nil)
	var msg *string
	if h == 0 {
		msg = openErr.Load()
	} else if hd := lookup(h); hd != nil {
		msg = hd.lastErr.Load()
	} else {
		return C.REVOCHECK_ERR_BADHANDLE
	}
	s := ""
	if msg != nil {
		s = *msg
	}
	return copyOut(s, buf, size)
}

// copyOut copies s into the caller's buffer, NUL-terminated, truncating.
func copyOut(s string, buf *C.char, size C.size_t) C.int {
	if size == 0 || buf == nil {
		return C.REVOCHECK_OK
	}
	out := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(size))
	n := copy(out[:len(out)-1], s)
	out[n] = 0
	if n < len(s) {
		return C.REVOCHECK_ERR_RANGE
	}
	return C.REVOCHECK_OK
}

//export rcGoState
func rcGoState(h C.int64_t, ready *C.int32_t, buf *C.char, size C.size_t) (rc C.int) {
	defer guard(&rc, nil, nil)
	hd := lookup(h)
	if hd == nil {
		return C.REVOCHECK_ERR_BADHANDLE
	}
	// The library's own judgement: the cache it would check against.
	err := hd.checker.DataErr()
	s, ok := hd.checker.Config.State(err)
	if ready != nil {
		*ready = 0
		if ok {
			*ready = 1
		}
	}
	return copyOut(s, buf, size)
}

//export rcGoCacheOrigin
func rcGoCacheOrigin(h C.int64_t, buf *C.char, size C.size_t) (rc C.int) {
	defer guard(&rc, nil, nil)
	hd := lookup(h)
	if hd == nil {
		return C.REVOCHECK_ERR_BADHANDLE
	}
	return copyOut(hd.checker.Config.CacheOrigin(), buf, size)
}

//export rcGoFindIssuers
func rcGoFindIssuers(h C.int64_t, cert unsafe.Pointer, certLen C.size_t, buf unsafe.Pointer, size C.size_t, used *C.size_t, count *C.int32_t) (rc C.int) {
	*used, *count = 0, 0
	hd := lookup(h)
	defer guard(&rc, nil, hd)
	if hd == nil {
		return C.REVOCHECK_ERR_BADHANDLE
	}
	found, err := hd.checker.FindIssuers(bytesOf(cert, certLen))
	if err != nil {
		if errors.Is(err, intermediates.ErrCert) {
			return hd.fail(C.REVOCHECK_ERR_INVALID, err)
		}
		return hd.fail(C.REVOCHECK_ERR_INTERNAL, err)
	}
	need := 0
	for _, der := range found {
		need += len(der)
	}
	*used = C.size_t(need)
	if uint64(need) > uint64(size) {
		return C.REVOCHECK_ERR_RANGE
	}
	out := bytesOf(buf, size)
	n := 0
	for _, der := range found {
		n += copy(out[n:], der)
	}
	*count = C.int32_t(len(found))
	return C.REVOCHECK_OK
}
