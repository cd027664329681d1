package fetch

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/revocheck/revocheck/core/index"
)

// fileCoverage reads the coverage a filter file contributes to index.bin.
// It is a variable so tests can count calls.
var fileCoverage = func(path string) ([]index.Coverage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return coverageOf(data)
}

// coverageOf reads the CRLiteCoverage block of a v4 filter (C2SP "Filter
// file format": version 4, reserved 0, u16 count, count × 48-byte entries).
// Interim: core/clubcard's Parse + Coverage replaces it once it lands.
func coverageOf(data []byte) ([]index.Coverage, error) {
	if len(data) < 4 {
		return nil, fmt.Errorf("filter: truncated header")
	}
	if data[0] != 4 || data[1] != 0 {
		return nil, fmt.Errorf("filter: version [%d, %d] is not a v4 clubcard", data[0], data[1])
	}
	n := int(binary.BigEndian.Uint16(data[2:4]))
	if len(data)-4 < n*48 {
		return nil, fmt.Errorf("filter: truncated coverage")
	}
	cov := make([]index.Coverage, n)
	p := data[4:]
	for i := range cov {
		copy(cov[i].LogID[:], p[:32])
		cov[i].Low = binary.BigEndian.Uint64(p[32:40])
		cov[i].High = binary.BigEndian.Uint64(p[40:48])
		if cov[i].Low > cov[i].High {
			return nil, fmt.Errorf("filter: coverage interval %d is empty", i)
		}
		p = p[48:]
	}
	return cov, nil
}
