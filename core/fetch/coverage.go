package fetch

import (
	"os"

	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/index"
)

// fileCoverage reads the coverage a filter file contributes to index.bin.
func fileCoverage(path string) ([]index.Coverage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return coverageOf(data)
}

// coverageOf parses a filter (clubcard v4 or v3) and returns its coverage.
// A file that does not parse fails the sync before any index names it.
func coverageOf(data []byte) ([]index.Coverage, error) {
	f, err := clubcard.Parse(data)
	if err != nil {
		return nil, err
	}
	cov := make([]index.Coverage, 0, len(f.Coverage()))
	for _, c := range f.Coverage() {
		cov = append(cov, index.Coverage(c))
	}
	return cov, nil
}
