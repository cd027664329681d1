package cascade

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type stashEntry struct {
	issuer [32]byte
	serial []byte
}

// walkStash is a second, plain decoder of well-formed stash data, used to
// enumerate what ParseStash must find.
func walkStash(t testing.TB, data []byte) []stashEntry {
	t.Helper()
	var out []stashEntry
	for p := 0; p < len(data); {
		count := int(binary.LittleEndian.Uint32(data[p:]))
		if data[p+4] != 32 {
			t.Fatalf("issuer length %d at %d", data[p+4], p)
		}
		var issuer [32]byte
		copy(issuer[:], data[p+5:p+37])
		p += 37
		for range count {
			n := int(data[p])
			out = append(out, stashEntry{issuer, data[p+1 : p+1+n]})
			p += 1 + n
		}
	}
	return out
}

// TestMozCrliteQueryStash reads moz_crlite_query's test stash (the file its
// tests serve with hash fd3c4bbd…; they assert only that it loads) and checks
// that every listed serial is found and that near misses are not.
func TestMozCrliteQueryStash(t *testing.T) {
	data := readFixture(t, "moz_crlite_query/test-1.stash")
	h := sha256.Sum256(data)
	require.Equal(t, "fd3c4bbde807233854671be482ed8d9ede40b6d1c6af3a0a4cfe37b26560dbc3", hex.EncodeToString(h[:]),
		"test-1.stash is not the file moz_crlite_query's tests serve")
	s, err := ParseStash(data)
	require.NoError(t, err)
	entries := walkStash(t, data)
	require.Len(t, entries, 2669, "serials found by walking the file")
	require.Equal(t, len(entries), s.Len(), "serials in the parsed stash")
	issuers := map[[32]byte]bool{}
	for _, e := range entries {
		issuers[e.issuer] = true
		if !s.Has(e.issuer, e.serial) {
			t.Fatalf("serial %x of issuer %x not found", e.serial, e.issuer)
		}
		// A serial with its leading byte dropped or a zero prepended is a
		// different serial; so is the same serial under another issuer.
		if s.Has(e.issuer, e.serial[1:]) && !contains(entries, e.issuer, e.serial[1:]) {
			t.Fatalf("truncated serial %x found", e.serial[1:])
		}
		if s.Has(e.issuer, append([]byte{0}, e.serial...)) && !contains(entries, e.issuer, append([]byte{0}, e.serial...)) {
			t.Fatalf("zero-extended serial found")
		}
		other := e.issuer
		other[31] ^= 1
		if s.Has(other, e.serial) && !contains(entries, other, e.serial) {
			t.Fatalf("serial found under the wrong issuer")
		}
	}
	assert.Equal(t, len(issuers), s.Issuers(), "Issuers()")
	assert.Zero(t, testing.AllocsPerRun(50, func() { s.Has(entries[0].issuer, entries[0].serial) }), "Has allocations")
}

func contains(entries []stashEntry, issuer [32]byte, serial []byte) bool {
	for _, e := range entries {
		if e.issuer == issuer && bytes.Equal(e.serial, serial) {
			return true
		}
	}
	return false
}

func TestParseStashHostile(t *testing.T) {
	iss := bytes.Repeat([]byte{7}, 32)
	block := func(count uint32, issLen byte, rest ...byte) []byte {
		b := binary.LittleEndian.AppendUint32(nil, count)
		b = append(b, issLen)
		if issLen == 32 {
			b = append(b, iss...)
		}
		return append(b, rest...)
	}
	good := block(2, 32, 2, 0x01, 0x02, 1, 0x80)
	tests := []struct {
		name string
		data []byte
		ok   bool
		n    int
	}{
		{"empty", nil, true, 0},
		{"one block", good, true, 2},
		{"two blocks same issuer", append(append([]byte{}, good...), block(1, 32, 3, 9, 9, 9)...), true, 3},
		{"duplicate serial", append(append([]byte{}, good...), good...), true, 2},
		{"zero count", block(0, 32), true, 0},
		{"truncated header", []byte{1, 0, 0}, false, 0},
		{"issuer length 20", block(0, 20, bytes.Repeat([]byte{0}, 20)...), false, 0},
		{"truncated issuer", block(0, 32)[:20], false, 0},
		{"count 2**32 - 1", block(0xffffffff, 32, 1, 1), false, 0},
		{"count past data", block(3, 32, 1, 1, 1, 2), false, 0},
		{"serial past data", block(1, 32, 5, 1, 2), false, 0},
		{"trailing byte", append(append([]byte{}, good...), 0), false, 0},
	}
	for _, tt := range tests {
		s, err := ParseStash(tt.data)
		if !tt.ok {
			if assert.Error(t, err, tt.name) {
				assert.Nil(t, s, tt.name)
				assert.True(t, IsError(err), "%s: %T is not a cascade error", tt.name, err)
			}
			continue
		}
		if assert.NoError(t, err, tt.name) {
			assert.Equal(t, tt.n, s.Len(), "%s: serials", tt.name)
		}
	}
	s, err := ParseStash(good)
	require.NoError(t, err)
	var issuer [32]byte
	copy(issuer[:], iss)
	assert.True(t, s.Has(issuer, []byte{1, 2}), "serial 0102")
	assert.True(t, s.Has(issuer, []byte{0x80}), "serial 80")
	assert.False(t, s.Has(issuer, []byte{0, 0x80}), "serial 0080 (a different serial)")
	assert.False(t, s.Has([32]byte{}, []byte{1, 2}), "serial 0102 of another issuer")
}

func FuzzParseStash(f *testing.F) {
	data := readFixture(f, "moz_crlite_query/test-1.stash")
	f.Add(data)
	f.Add(data[:200])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseStash(data)
		if err != nil {
			if s != nil || !IsError(err) {
				t.Fatalf("failure returned %v, %T", s, err)
			}
			return
		}
		entries := walkStash(t, data)
		if s.Len() > len(entries) {
			t.Fatalf("%d serials from %d entries", s.Len(), len(entries))
		}
		for _, e := range entries {
			if !s.Has(e.issuer, e.serial) {
				t.Fatalf("listed serial not found")
			}
		}
	})
}
