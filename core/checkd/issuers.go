package checkd

import (
	"errors"

	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/core/intermediates"
)

// issuersReply answers KindIssuers from the client's checker (the same
// configuration rules as its checks): the candidates for cert's missing
// issuer, whole certificates up to MaxPart bytes in all.
func issuersReply(c *engine.Checker, cert []byte) Reply {
	found, err := c.FindIssuers(cert)
	switch {
	case errors.Is(err, intermediates.ErrCert):
		return Reply{Status: StatusInvalid}
	case err != nil: // a damaged index: no candidates, as without one
		return Reply{Status: StatusInternal}
	}
	var rep Reply
	var data []byte
	for _, der := range found {
		if len(data)+len(der) > MaxPart {
			break
		}
		data = append(data, der...)
		rep.Outcome++
	}
	rep.Data = string(data)
	return rep
}
