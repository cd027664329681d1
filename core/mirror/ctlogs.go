package mirror

import (
	"context"
	"fmt"
	"net/http"

	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/core/httpget"
)

// mirrorCTLogs turns the security-state/ct-logs collection (Mozilla's CT
// log list: logID, key, operator, admissible...) into <out>/ctlogs/, the
// tree `revocheck fetch` syncs (core/ctlog, docs/FORMATS.md). A server
// without that collection (404) is noted and skipped: the CRLite data does
// not depend on it.
func mirrorCTLogs(ctx context.Context, o *Options, base string, res *Result) error {
	url := base + collections + "ct-logs/records"
	r, err := o.Client.GetSmall(ctx, url, nil, ctlog.MaxUpstreamSize, false)
	if err != nil {
		if httpget.StatusCode(err) == http.StatusNotFound {
			res.CTLogsAbsent = true
			fmt.Fprintf(o.Log, "mirror: %s: no ct-logs collection; CT log list not mirrored\n", base)
			return nil
		}
		return err
	}
	l, err := ctlog.ParseRecords(r.Body, "Remote Settings security-state/ct-logs")
	if err != nil {
		return &httpget.Error{Err: fmt.Errorf("mirror: %s: %w", url, err)}
	}
	if _, err := ctlog.WriteTree(o.OutDir, l, o.Now()); err != nil {
		return &httpget.Error{Err: fmt.Errorf("mirror: %w", err)}
	}
	res.CTLogs = len(l.Logs)
	return nil
}
