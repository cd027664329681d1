package crlcompile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// maxCRLSize bounds one downloaded CRL.
const maxCRLSize = 2 << 30

// ReadSource reads one CRL: a file, or an http(s) URL fetched with client
// (at most maxCRLSize bytes, and exactly the announced length).
func ReadSource(client *http.Client, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		return os.ReadFile(src)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	if resp.ContentLength > maxCRLSize {
		return nil, fmt.Errorf("CRL of %d bytes exceeds the limit", resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCRLSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCRLSize {
		return nil, errors.New("CRL exceeds the size limit")
	}
	if resp.ContentLength >= 0 && int64(len(data)) != resp.ContentLength {
		return nil, errors.New("truncated download")
	}
	return data, nil
}
