package main

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/core/certinput"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tIssuer = "cbed37500c558fd95e51f9ec7c0c19677e4276d371936e0d7202bce8b3b8b01a"
	tLog    = "fc2862f68d8b05be10cdd164046cfa6b5c10cab1a3fa877f3272548816dd9a71"
)

// refParse is the line format written the obvious way (strings.FieldsFunc,
// hex.DecodeString, strconv.ParseUint): the fuzz target's oracle.
func refParse(line string) (certinput.Input, bool) {
	var in certinput.Input
	f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' })
	if len(f) < 3 {
		return in, false
	}
	issuer, err := hex.DecodeString(f[0])
	if err != nil || len(issuer) != 32 {
		return in, false
	}
	in.IssuerSPKIHash = [32]byte(issuer)
	if in.Serial, err = hex.DecodeString(f[1]); err != nil || len(in.Serial) == 0 || len(in.Serial) > maxRawSerial {
		return in, false
	}
	if f[2] == "-" {
		return in, true
	}
	for s := range strings.SplitSeq(f[2], ",") {
		id, ts, ok := strings.Cut(s, ":")
		logID, err := hex.DecodeString(id)
		if !ok || err != nil || len(logID) != 32 || len(ts) == 0 || strings.Trim(ts, "0123456789") != "" {
			return in, false
		}
		v, err := strconv.ParseUint(ts, 10, 64)
		if err != nil || len(ts) > 20 {
			return in, false
		}
		in.SCTs = append(in.SCTs, certinput.SCT{LogID: [32]byte(logID), Timestamp: v})
	}
	return in, len(in.SCTs) <= maxRawSCTs
}

func sameInput(a, b *certinput.Input) bool {
	if a.IssuerSPKIHash != b.IssuerSPKIHash || !bytes.Equal(a.Serial, b.Serial) || len(a.SCTs) != len(b.SCTs) {
		return false
	}
	for i := range a.SCTs {
		if a.SCTs[i] != b.SCTs[i] {
			return false
		}
	}
	return true
}

func TestRawLineParse(t *testing.T) {
	q := new(rawQuery)
	good := map[string]string{
		"no scts":             tIssuer + " 00ff -",
		"one sct":             tIssuer + " 01 " + tLog + ":1650000000000",
		"max timestamp":       tIssuer + " 01 " + tLog + ":18446744073709551615",
		"20 digits, 0 first":  tIssuer + " 01 " + tLog + ":09999999999999999999",
		"19 digits":           tIssuer + " 01 " + tLog + ":9999999999999999999",
		"two, extra fields":   tIssuer + " 0A0b " + tLog + ":0," + tLog + ":1 g R R",
		"tabs, CR, blanks":    "\t " + strings.ToUpper(tIssuer) + "\t01  -\r",
		"255-byte serial":     tIssuer + " " + strings.Repeat("ab", 255) + " -",
		"leading zero serial": tIssuer + " 0000 -",
	}
	for name, line := range good {
		want, ok := refParse(line)
		require.True(t, ok, "oracle rejects %s", name)
		require.NoError(t, q.parse([]byte(line)), name)
		assert.True(t, sameInput(&q.In, &want), "%s: got %+v, want %+v", name, q.In, want)
	}
	bad := map[string]struct {
		line string
		err  error
	}{
		"empty":                 {"", errRawFields},
		"blank":                 {" \t\r", errRawFields},
		"two fields":            {tIssuer + " 01", errRawFields},
		"short issuer":          {tIssuer[2:] + " 01 -", errRawIssuer},
		"long issuer":           {tIssuer + "00 01 -", errRawIssuer},
		"non-hex issuer":        {"g" + tIssuer[1:] + " 01 -", errRawIssuer},
		"byte 0xff in issuer":   {tIssuer[:58] + "\xff" + tIssuer[59:] + " 01 -", errRawIssuer},
		"G in a log id":         {tIssuer + " 01 " + tLog[:40] + "G" + tLog[41:] + ":1", errRawSCT},
		"X in a serial word":    {tIssuer + " 0X000000 -", errRawSerial},
		"x after a word":        {tIssuer + " 0000000000x0 -", errRawSerial},
		"odd serial":            {tIssuer + " 012 -", errRawSerial},
		"non-hex serial":        {tIssuer + " 0x -", errRawSerial},
		"256-byte serial":       {tIssuer + " " + strings.Repeat("ab", 256) + " -", errRawSerial},
		"dash and more":         {tIssuer + " 01 -,", errRawSCT},
		"short log id":          {tIssuer + " 01 " + tLog[2:] + ":1", errRawSCT},
		"no colon":              {tIssuer + " 01 " + tLog + "1", errRawSCT},
		"no timestamp":          {tIssuer + " 01 " + tLog + ":", errRawTimestamp},
		"trailing comma":        {tIssuer + " 01 " + tLog + ":1,", errRawSCT},
		"negative timestamp":    {tIssuer + " 01 " + tLog + ":-1", errRawTimestamp},
		"timestamp 2^64":        {tIssuer + " 01 " + tLog + ":18446744073709551616", errRawTimestamp},
		"timestamp 21 digits":   {tIssuer + " 01 " + tLog + ":000000000000000000001", errRawTimestamp},
		"timestamp 20 nines":    {tIssuer + " 01 " + tLog + ":99999999999999999999", errRawTimestamp},
		"2^64 then a comma":     {tIssuer + " 01 " + tLog + ":18446744073709551616," + tLog + ":1", errRawTimestamp},
		"timestamp with letter": {tIssuer + " 01 " + tLog + ":12a", errRawTimestamp},
		"257 scts":              {tIssuer + " 01 " + strings.Repeat(tLog+":1,", 256) + tLog + ":1", errRawManySCTs},
	}
	for name, tc := range bad {
		_, ok := refParse(tc.line)
		require.False(t, ok, "oracle accepts %s", name)
		assert.Equal(t, tc.err, q.parse([]byte(tc.line)), name)
	}
	// 256 SCTs is the most a line may carry.
	require.NoError(t, q.parse([]byte(tIssuer+" 01 "+strings.Repeat(tLog+":1,", 255)+tLog+":1")))
	assert.Len(t, q.In.SCTs, 256)
}

// TestRawLineNoAlloc: parsing allocates nothing, accepted or refused.
func TestRawLineNoAlloc(t *testing.T) {
	q := new(rawQuery)
	good := []byte(tIssuer + " 0a0b " + tLog + ":1650000000000," + tLog + ":1")
	bad := []byte(tIssuer + " 0a0b " + tLog + ":16500x")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = q.parse(good) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = q.parse(bad) }))
}

// FuzzRawLine: the parser never panics, agrees with the obvious oracle on
// what it accepts and what it reads, and reads back what appendRawLine
// writes.
func FuzzRawLine(f *testing.F) {
	f.Add(tIssuer + " 00ff -")
	f.Add(tIssuer + " 01 " + tLog + ":1650000000000," + tLog + ":18446744073709551615 g R R")
	f.Add("\t" + tIssuer + "\t01 " + tLog + ":0\r")
	f.Add(tIssuer + " 01 " + tLog + ":1,")
	f.Add(tIssuer + " 01 -,")
	f.Add("")
	q := new(rawQuery)
	f.Fuzz(func(t *testing.T, line string) {
		err := q.parse([]byte(line))
		want, ok := refParse(line)
		if ok != (err == nil) {
			t.Fatalf("parse %q: %v; oracle accepts: %v", line, err, ok)
		}
		if !ok {
			return
		}
		if !sameInput(&q.In, &want) {
			t.Fatalf("parse %q: %+v; oracle %+v", line, q.In, want)
		}
		out := appendRawLine(nil, &q.In)
		q2 := new(rawQuery)
		if err := q2.parse(out); err != nil || !sameInput(&q2.In, &want) {
			t.Fatalf("%q written back as %q: %v", line, out, err)
		}
	})
}
