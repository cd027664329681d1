package cachedir

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/outcome"
)

// SyntheticSpec shapes a synthetic cache. The model follows how Mozilla
// publishes CRLite: one full filter over every certificate known at its run,
// then a delta per run (twice a day), each a complete clubcard over every
// certificate known at that run whose revoked set is what was newly revoked
// since the previous run, with coverage growing run by run. Every filter
// therefore covers every older certificate, and a check for one of them
// consults all 1+Deltas filters, the realistic worst case.
type SyntheticSpec struct {
	Issuers         int     // enrolled issuers (Mozilla: ~1000)
	FullSerials     int     // certificates known at the full filter's run
	Deltas          int     // number of deltas (Mozilla keeps ~35)
	DeltaSerials    int     // certificates newly issued between two runs
	RevokedFraction float64 // share of the full filter's certificates that are revoked; each delta newly revokes this share of DeltaSerials
	DeltaRevoked    int     // if set, certificates each delta newly revokes (instead of RevokedFraction·DeltaSerials)
	Logs            int     // CT logs; every certificate has two SCTs from distinct logs
	Seed            int64
}

// MozillaShaped has Mozilla's structure: ~1000 issuers, one full filter
// and 35 deltas, every filter covering every older certificate, so a check
// consults all 36. It is smaller than Mozilla's in certificates (1M) and
// hence in bytes (2.1 MB in all; the full filter ~100 KB): it builds in
// seconds, for tests and the whole-process benchmarks. MozillaSized is the
// same shape at Mozilla's size.
var MozillaShaped = SyntheticSpec{
	Issuers:         1000,
	FullSerials:     1_000_000,
	Deltas:          35,
	DeltaSerials:    10_000,
	RevokedFraction: 0.1,
	Logs:            12,
	Seed:            1,
}

// MozillaSized is the size of Mozilla's published data (June 2026: a
// 6.1 MB full filter and 35 deltas of ~170 KB, 12.3 MB in all): ~6 MB full
// filter, ~170 KB per delta, 40 logs. The bytes come from fewer
// certificates at a higher revoked share than Mozilla's (58M at 20%, not
// ~1B at a few percent), so ranks are lower than Mozilla's; a check walks
// the same 36 filters. Generating it takes minutes and ~14 GB of memory.
var MozillaSized = SyntheticSpec{
	Issuers:         1000,
	FullSerials:     58_000_000,
	Deltas:          35,
	DeltaSerials:    100_000,
	DeltaRevoked:    60_000,
	RevokedFraction: 0.2,
	Logs:            40,
	Seed:            1,
}

// Sample holds inputs with known answers from a synthetic cache.
type Sample struct {
	Revoked     []certinput.Input `json:"revoked"`      // revoked in the full filter or a delta
	NotRevoked  []certinput.Input `json:"not_revoked"`  // covered by every filter, never revoked
	NotCovered  []certinput.Input `json:"not_covered"`  // SCTs newer than the newest delta
	NotEnrolled []certinput.Input `json:"not_enrolled"` // covered, issuer unknown to every filter
}

// Kind is one kind of sample input and the outcome a check must give it.
type Kind struct {
	Want outcome.Outcome
	Set  []certinput.Input
}

// Kinds lists the sample by expected outcome, in the order benchmarks
// report them.
func (s *Sample) Kinds() []Kind {
	return []Kind{{outcome.NotRevoked, s.NotRevoked}, {outcome.Revoked, s.Revoked},
		{outcome.NotEnrolled, s.NotEnrolled}, {outcome.NotCovered, s.NotCovered}}
}

const (
	synthT0      = 1_750_000_000_000 // ms; the first SCT of the full filter's certificates
	synthFullDur = 90 * 24 * 3600 * 1000
	synthRun     = 12 * 3600 * 1000 // between two runs
	sampleSize   = 64
)

type synthCert struct {
	issuer  int32
	serial  [16]byte
	logs    [2]uint8
	ts      uint64
	revoked bool
}

func (sc *synthCert) input(issuers [][32]byte, logs [][32]byte) certinput.Input {
	in := certinput.Input{IssuerSPKIHash: issuers[sc.issuer], Serial: bytes.Clone(sc.serial[:])}
	for _, l := range sc.logs {
		in.SCTs = append(in.SCTs, certinput.SCT{LogID: logs[l], Timestamp: sc.ts})
	}
	return in
}

// Synthetic writes a synthetic cache to dir (see SyntheticSpec) with
// clubcard.Build and Write, and returns sample inputs with known answers.
// Files are named like Mozilla's: YYYYMMDD-H-default.filter for the full
// filter and YYYYMMDD-H-default.filter.delta for deltas (H: half of the day).
func Synthetic(dir string, spec SyntheticSpec) (*Sample, error) {
	if spec.Issuers < 1 || spec.Logs < 2 || spec.Logs > 255 || spec.FullSerials < 1 || spec.Deltas < 0 ||
		spec.DeltaSerials < 0 || spec.DeltaRevoked < 0 || spec.RevokedFraction < 0 || spec.RevokedFraction > 1 {
		return nil, fmt.Errorf("cachedir: unusable synthetic spec %+v", spec)
	}
	if total := spec.FullSerials + spec.Deltas*spec.DeltaSerials; total > 10_000_000 {
		// Every build holds the whole universe several times over; a
		// tighter GC keeps a Mozilla-sized run well inside memory.
		defer debug.SetGCPercent(debug.SetGCPercent(25))
	}
	rng := rand.New(rand.NewPCG(uint64(spec.Seed), 0x5eed))
	rand32 := func() (b [32]byte) {
		for i := 0; i < 32; i += 8 {
			binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
		}
		return b
	}
	issuers := make([][32]byte, spec.Issuers)
	for i := range issuers {
		issuers[i] = rand32()
	}
	logs := make([][32]byte, spec.Logs)
	for i := range logs {
		logs[i] = rand32()
	}
	slices.SortFunc(logs, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })

	newCert := func(lo, hi uint64) synthCert {
		// Skewed toward low issuer numbers: a few CAs issue most
		// certificates, as in the Web PKI.
		u := rng.Float64()
		c := synthCert{issuer: int32(float64(spec.Issuers) * u * u * u), ts: lo + rng.Uint64N(hi-lo)}
		binary.BigEndian.PutUint64(c.serial[:], rng.Uint64())
		binary.BigEndian.PutUint64(c.serial[8:], rng.Uint64())
		c.serial[0] &= 0x7f // a positive DER INTEGER
		c.serial[0] |= 0x01 // and minimal (no leading zero byte)
		c.logs[0] = uint8(rng.IntN(spec.Logs))
		c.logs[1] = uint8((int(c.logs[0]) + 1 + rng.IntN(spec.Logs-1)) % spec.Logs)
		return c
	}

	total := spec.FullSerials + spec.Deltas*spec.DeltaSerials
	certs := make([]synthCert, 0, total)
	fullEnd := uint64(synthT0 + synthFullDur)
	for range spec.FullSerials {
		c := newCert(synthT0, fullEnd)
		c.revoked = rng.Float64() < spec.RevokedFraction
		certs = append(certs, c)
	}
	// Every build runs over the whole universe: hash each serial once.
	keys := make([][32]byte, 0, total)
	keys = appendKeys(keys, issuers, certs)
	start := time.UnixMilli(synthT0 + synthFullDur)
	var files []File
	full, err := buildSynthetic(issuers, logs, certs, keys, nil, fullEnd, uint64(spec.Seed)<<8|1)
	if err != nil {
		return nil, err
	}
	files = append(files, File{Name: runName(start) + ".filter", Data: full})

	everRevoked := make([]bool, total) // by a delta
	for d := range spec.Deltas {
		runEnd := fullEnd + uint64(d+1)*synthRun
		first := len(certs)
		for range spec.DeltaSerials {
			certs = append(certs, newCert(runEnd-synthRun+1, runEnd+1))
		}
		keys = appendKeys(keys, issuers, certs[first:])
		// Newly revoked since the previous run: drawn from every known,
		// not yet revoked certificate.
		var newly []int
		picked := make(map[int]bool)
		want := int(spec.RevokedFraction * float64(spec.DeltaSerials))
		if spec.DeltaRevoked > 0 {
			want = spec.DeltaRevoked
		}
		for tries := 0; len(newly) < want && tries < 4*want+16; tries++ {
			i := rng.IntN(len(certs))
			if !certs[i].revoked && !everRevoked[i] && !picked[i] {
				newly = append(newly, i)
				picked[i] = true
			}
		}
		slices.Sort(newly)
		data, err := buildSynthetic(issuers, logs, certs, keys, newly, runEnd, uint64(spec.Seed)<<8|uint64(d+2))
		if err != nil {
			return nil, err
		}
		for _, i := range newly {
			everRevoked[i] = true
		}
		run := start.Add(time.Duration(d+1) * synthRun * time.Millisecond)
		files = append(files, File{Name: runName(run) + ".filter.delta", Data: data})
	}
	if err := Write(dir, files, Options{GeneratedAt: time.UnixMilli(int64(fullEnd) + int64(spec.Deltas)*synthRun), Comment: fmt.Sprintf("synthetic %+v", spec)}); err != nil {
		return nil, err
	}

	s := &Sample{}
	for i := range certs {
		if len(s.Revoked) == sampleSize && len(s.NotRevoked) == sampleSize {
			break
		}
		c := &certs[i]
		switch {
		case (c.revoked || everRevoked[i]) && len(s.Revoked) < sampleSize:
			s.Revoked = append(s.Revoked, c.input(issuers, logs))
		case !c.revoked && !everRevoked[i] && c.ts <= fullEnd && len(s.NotRevoked) < sampleSize:
			s.NotRevoked = append(s.NotRevoked, c.input(issuers, logs))
		}
	}
	// Revocations that only a delta knows, so checks must reach them.
	for i, n := 0, 0; i < len(certs) && n < sampleSize; i++ {
		if everRevoked[i] {
			s.Revoked = append(s.Revoked, certs[i].input(issuers, logs))
			n++
		}
	}
	lastEnd := fullEnd + uint64(spec.Deltas)*synthRun
	for range sampleSize {
		c := newCert(lastEnd+1, lastEnd+synthRun)
		s.NotCovered = append(s.NotCovered, c.input(issuers, logs))
		c = newCert(synthT0, fullEnd)
		in := c.input(issuers, logs)
		in.IssuerSPKIHash = rand32()
		s.NotEnrolled = append(s.NotEnrolled, in)
	}
	return s, nil
}

// appendKeys appends the clubcard key of each certificate, hashed on
// every CPU.
func appendKeys(keys [][32]byte, issuers [][32]byte, certs []synthCert) [][32]byte {
	n := len(keys)
	keys = slices.Grow(keys, len(certs))[:n+len(certs)]
	const chunk = 1 << 16
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range work {
				for i := lo; i < min(lo+chunk, len(certs)); i++ {
					keys[n+i] = clubcard.Key(&issuers[certs[i].issuer], certs[i].serial[:])
				}
			}
		}()
	}
	for lo := 0; lo < len(certs); lo += chunk {
		work <- lo
	}
	close(work)
	wg.Wait()
	return keys
}

// runName names a run's file like Mozilla: date and half of the day.
func runName(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%s-%d-default", t.Format("20060102"), t.Hour()/12)
}

// buildSynthetic builds one clubcard over the certificates with SCTs up to
// end. With newly == nil the revoked set is every revoked certificate (the
// full filter); otherwise it is exactly newly (a delta).
func buildSynthetic(issuers, logs [][32]byte, certs []synthCert, keys [][32]byte, newly []int, end, seed uint64) ([]byte, error) {
	in := &clubcard.BuildInput{Seed: seed}
	for _, l := range logs {
		in.Coverage = append(in.Coverage, clubcard.CoverageEntry{LogID: l, Low: synthT0, High: end})
	}
	byIssuer := make([]clubcard.IssuerInput, len(issuers))
	for i := range issuers {
		byIssuer[i].SPKIHash = issuers[i]
	}
	ni := 0
	for i := range certs {
		c := &certs[i]
		if c.ts > end {
			continue
		}
		revoked := c.revoked
		if newly != nil {
			revoked = ni < len(newly) && newly[ni] == i
			if revoked {
				ni++
			}
		}
		is := &byIssuer[c.issuer]
		if revoked {
			is.Revoked = append(is.Revoked, c.serial[:])
		} else {
			is.NotRevoked = append(is.NotRevoked, c.serial[:])
			is.NotRevokedKeys = append(is.NotRevokedKeys, keys[i])
		}
	}
	for _, is := range byIssuer {
		if len(is.Revoked)+len(is.NotRevoked) > 0 {
			in.Issuers = append(in.Issuers, is)
		}
	}
	slices.SortFunc(in.Issuers, func(a, b clubcard.IssuerInput) int { return bytes.Compare(a.SPKIHash[:], b.SPKIHash[:]) })
	data, err := clubcard.Build(in)
	if err != nil {
		return nil, fmt.Errorf("cachedir: synthetic build: %w", err)
	}
	return data, nil
}

// SyntheticCached returns a synthetic cache for spec under
// os.TempDir()/revocheck-synthetic-<hash of spec>, generating it (and its
// sample, kept beside it) only if a complete one is not already there.
func SyntheticCached(spec SyntheticSpec) (dir string, s *Sample, err error) {
	key := sha256.Sum256(fmt.Appendf(nil, "v1 %+v", spec))
	dir = filepath.Join(os.TempDir(), "revocheck-synthetic-"+hex.EncodeToString(key[:8]))
	samplePath := dir + ".sample.json"
	// Serialize generators (parallel benchmark runs, several packages).
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", nil, err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", nil, err
	}
	if data, err := os.ReadFile(samplePath); err == nil {
		s = &Sample{}
		if json.Unmarshal(data, s) == nil && len(s.Revoked) > 0 {
			if _, err := os.Stat(filepath.Join(dir, indexName)); err == nil {
				return dir, s, nil
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", nil, err
	}
	if s, err = Synthetic(dir, spec); err != nil {
		return "", nil, err
	}
	data, err := json.Marshal(s)
	if err != nil {
		return "", nil, err
	}
	// The sample is written last: its presence marks a complete cache.
	if err := writeAtomic(filepath.Dir(samplePath), filepath.Base(samplePath), data, true); err != nil {
		return "", nil, err
	}
	return dir, s, nil
}
